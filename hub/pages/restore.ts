/**
 * The student's restore page, `/hub/restore` (and `/hub/restore/<user>` for admins): a
 * server-rendered shell; /hub/static/restore.js lists the snapshots, browses one and restores
 * through the backup API (hub/api/backups.ts), which checks ownership on every call. No inline
 * script: the page's CSP forbids it.
 */
import express, { type Router } from 'express';
import { isValidUserName } from '../auth/accounts.js';
import { HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import type { Store } from '../store/store.js';
import { esc, page, PAGE_CSP } from './layout.js';
import { RESTORE_JS } from './restore-script.js';

/** The page shell; restore.js fills `#snapshots`, `#browser` and `#confirm`. */
export function restorePage(o: { user: string; viewer: string; xsrf: string }): string {
  const own = o.user === o.viewer;
  return page(
    { title: 'Restore files', user: o.viewer, scripts: ['restore.js'], data: { page: 'restore', user: o.user, xsrf: o.xsrf } },
    `<h1>${own ? 'Restore files from a backup' : `Restore ${esc(o.user)}'s files from a backup`}</h1>
<p class="muted">${own ? 'Your home folder is' : 'Home folders are'} backed up regularly. Pick a backup, find the file or folder and restore it.
By default it is put in a new folder <code>restored-&lt;time&gt;</code> in ${own ? 'your' : 'the'} home, so nothing there now is overwritten.</p>
<div id="message" aria-live="polite"></div>
<section id="snapshots"><h2>Backups</h2><p class="muted" id="snapshots-loading">Loading…</p><ul id="snapshot-list" class="plain-list"></ul></section>
<section id="browser" hidden>
<h2 id="browser-title"></h2>
<nav id="crumbs" aria-label="Folder"></nav>
<table id="entries" class="entries"><thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Changed</th><th scope="col"><span class="visually-hidden">Restore</span></th></tr></thead><tbody></tbody></table>
<button type="button" class="secondary" id="restore-folder">Restore this whole folder</button>
</section>
<section id="confirm" hidden>
<h2 id="confirm-title">Restore</h2>
<fieldset><legend>Where to put it</legend>
<label class="radio"><input type="radio" name="mode" value="side" checked> In a new folder <code>restored-&lt;time&gt;</code> (nothing is overwritten)</label>
<label class="radio"><input type="radio" name="mode" value="in-place"> In its original place (replaces the files there now)</label>
</fieldset>
<div id="overwrite" hidden><p class="notice" id="overwrite-note"></p><ul id="overwrite-list" class="overwrite-list"></ul></div>
<button type="button" id="confirm-restore">Restore</button> <button type="button" class="secondary" id="cancel-restore">Cancel</button>
</section>`,
  );
}

export interface RestorePagesOptions {
  identity: IdentityResolver;
  store: Store;
}

/** `/hub/restore[/<user>]` and its script. The owner, or an admin for anyone; others get 404. */
export function restorePagesRouter(o: RestorePagesOptions): Router {
  const r = express.Router();
  r.get('/hub/static/restore.js', (_req, res) => void res.type('application/javascript').set('Cache-Control', 'max-age=300').send(RESTORE_JS));
  r.get(['/hub/restore', '/hub/restore/:user'], (req, res) => {
    const id = o.identity.fromSession(req);
    if (!id) return res.redirect(302, `/hub/login?next=${encodeURIComponent(req.originalUrl)}`);
    const user = req.params.user ? String(req.params.user) : id.user;
    if (!isValidUserName(user) || (user !== id.user && (!id.admin || !o.store.data.users[user]))) throw new HubError('HUB_ERR_NOT_FOUND');
    res
      .status(200)
      .set({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store' })
      .send(restorePage({ user, viewer: id.user, xsrf: id.session!.csrf }));
  });
  return r;
}
