/** The hub's pages: login, home, spawn-pending, not-running (424) and error pages. */
import type { ServerRecord } from '../store/state.js';
import { esc, page } from './layout.js';

/**
 * The lab's CA on the login page (when `proxy.tls.caCert` is set): a download link and how to
 * trust it, with the fingerprint to compare with the one the instructor shows.
 */
function caBlock(ca: { fingerprint: string } | undefined): string {
  if (!ca) return '';
  return `<section class="ca-download" id="ca-download">
<p><a id="ca-link" href="/hub/ca.crt" download="labhub-ca.crt">Download this lab's certificate (to trust it on your computer)</a></p>
<details><summary>How to trust it</summary>
<p class="muted">Do this once per computer, so your browser stops warning about this lab's https address. Check first that the fingerprint matches the one your instructor shows: <code id="ca-fingerprint">${esc(ca.fingerprint).replace(/:/g, ':<wbr>')}</code></p>
<ul>
<li><strong>Windows</strong>: open the file, choose <em>Install Certificate</em>, <em>Current User</em>, <em>Place all certificates in the following store</em>: <em>Trusted Root Certification Authorities</em>.</li>
<li><strong>macOS</strong>: open the file (Keychain Access adds it), double-click the LabHub certificate, and under <em>Trust</em> choose <em>Always Trust</em>.</li>
<li><strong>Linux (Chrome, Chromium)</strong>: Settings → Privacy and security → Security → Manage certificates → Authorities → Import, and tick <em>Trust this certificate for identifying websites</em>.</li>
<li><strong>Firefox</strong> (any system): Settings → Privacy &amp; Security → Certificates → View Certificates → Authorities → Import, and tick <em>Trust this CA to identify websites</em>.</li>
</ul>
<p class="muted">Then close the browser and open this page again.</p>
</details>
</section>`;
}

export function loginPage(o: { next: string; xsrf: string; error?: string; username?: string; ca?: { fingerprint: string } }): string {
  return page(
    { title: 'Log in' },
    `<h1>Log in to LabHub</h1>
<p class="muted">Use the user name and password of your account on this lab server.</p>
${o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : ''}
<form method="post" action="/hub/login?next=${esc(encodeURIComponent(o.next))}">
<input type="hidden" name="_xsrf" value="${esc(o.xsrf)}">
<label for="username">User name</label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="off" autocorrect="off" spellcheck="false" value="${esc(o.username ?? '')}" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" id="login_submit">Log in</button>
</form>${caBlock(o.ca)}`,
  );
}

function reasonBlock(rec: ServerRecord | undefined): string {
  if (!rec?.stopReason) return '';
  const [first, ...rest] = rec.stopReason.split('\n');
  const when = rec.stoppedAt ? ` <span class="muted">(${esc(new Date(rec.stoppedAt).toUTCString())})</span>` : '';
  return `<p class="notice">${esc(first)}${when}</p>${rest.length ? `<details><summary>Details</summary><pre>${esc(rest.join('\n'))}</pre></details>` : ''}`;
}

export function homePage(o: { user: string; rec: ServerRecord | undefined; pending: boolean; xsrf: string; admin?: boolean; quota?: string }): string {
  const running = o.rec?.status === 'running';
  const body = running
    ? `${o.rec?.notice ? `<p class="notice" id="server-notice">${esc(o.rec.notice)}</p>` : ''}<p>Your server is running.</p><a class="button" id="open" href="/user/${esc(o.user)}/">Open my server</a>
<button class="secondary" id="stop" type="button">Stop my server</button>`
    : o.pending
      ? `<p>Your server is starting.</p><a class="button" href="/hub/spawn-pending/${esc(o.user)}">Show progress</a>`
      : `${reasonBlock(o.rec)}<p>Your server is not running.</p><a class="button" id="start" href="/hub/spawn/${esc(o.user)}">Start my server</a>`;
  const restore = `<p class="restore-link"><a id="restore-link" href="/hub/restore">Restore files from a backup</a></p>`;
  const admin = o.admin ? `<p class="admin-link"><a href="/hub/admin">Open the admin pages</a> (users, class rosters, logs, settings)</p>` : '';
  return page({ title: 'Home', user: o.user, scripts: ['home.js'], data: { user: o.user, xsrf: o.xsrf } }, `<h1>Hello, ${esc(o.user)}</h1>${o.quota ?? ''}${body}${restore}${admin}`);
}

export function spawnPendingPage(o: { user: string; viewer: string; next: string; progressUrl: string; quota?: string }): string {
  return page(
    { title: 'Starting your server', user: o.viewer, scripts: ['spawn-pending.js'], data: { progressUrl: o.progressUrl, next: o.next } },
    `<h1>Starting ${o.user === o.viewer ? 'your' : `${esc(o.user)}'s`} server</h1>${o.quota ?? ''}
<p id="message" aria-live="polite">Waiting for the server to start…</p>
<progress id="bar" max="100" value="0"></progress>
<p id="queued" class="muted" hidden>Many students are starting at once, so servers start a few at a time in order of arrival. Your place is kept: leave this page open and it moves on by itself.</p>
<details open><summary>Event log</summary><div id="log"></div></details>
<div id="failed" hidden><p class="error" id="failed-message"></p><a class="button" href="/hub/spawn/${esc(o.user)}?next=${esc(encodeURIComponent(o.next))}">Try again</a> <a class="button secondary" href="/hub/home">Home</a></div>`,
  );
}

export function notRunningPage(o: { user: string; viewer: string; rec: ServerRecord | undefined; next: string }): string {
  const whose = o.user === o.viewer ? 'Your server is' : `${esc(o.user)}'s server is`;
  return page(
    { title: 'Server not running', user: o.viewer },
    `<h1>${whose} not running</h1>${reasonBlock(o.rec)}
<p>It needs to be started before you can open <code>${esc(o.next)}</code>.</p>
<a class="button" id="start" href="/hub/spawn/${esc(o.user)}?next=${esc(encodeURIComponent(o.next))}">Start ${o.user === o.viewer ? 'my' : 'the'} server</a>
<a class="button secondary" href="/hub/home">Home</a>`,
  );
}

export function errorPage(o: { status: number; message: string; user?: string | null }): string {
  const titles: Record<number, string> = { 400: 'Bad request', 403: 'Forbidden', 404: 'Not found', 424: 'Server not running', 500: 'Something went wrong', 503: 'Unavailable' };
  const title = titles[o.status] ?? `Error ${o.status}`;
  return page({ title, user: o.user }, `<h1>${esc(title)}</h1><p class="error">${esc(o.message)}</p><a class="button secondary" href="/hub/home">Home</a>`);
}
