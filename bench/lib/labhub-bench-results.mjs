/**
 * Appends a run to one `## <title>` section of bench/RESULTS.md. Other benchmarks own other
 * sections of the same file, so only the named section is touched: a new run block is inserted at
 * the end of that section (before the next `## ` heading), or the section is added at the end of
 * the file with its introduction. The file is re-read right before the write.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'RESULTS.md');

export function appendRun(title, intro, runBlock, file = RESULTS_FILE) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# LabHub benchmark results\n';
  const lines = text.split('\n');
  const heading = `## ${title}`;
  const start = lines.findIndex((l) => l.trim() === heading);
  const block = runBlock.replace(/\s+$/, '') + '\n';
  let out;
  if (start < 0) {
    out = `${text.replace(/\s*$/, '')}\n\n${heading}\n\n${intro.replace(/\s+$/, '')}\n\n${block}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    const before = lines.slice(0, end).join('\n').replace(/\s*$/, '');
    const after = lines.slice(end).join('\n');
    out = `${before}\n\n${block}${after ? `\n${after}` : ''}`;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, out.endsWith('\n') ? out : `${out}\n`);
  renameSync(tmp, file);
}

/** Introduction of the "## Login to notebook" section (written once, when the section is created). */
export const LOGIN_INTRO = `\`node bench/login-notebook.mjs\` (see README). A scripted browser (cookie jar, redirects one by one,
Referer/Origin like a browser) opens \`/user/<name>/tree/\`, posts the login form (t = 0) and follows the
flow (spawn, spawn-pending and its progress stream, \`/hub/user/…\` → OAuth authorize/callback through the
proxy) until \`GET /user/<name>/api/status\` answers 200 through the proxy. "Single-user alone" is the same
\`jupyterhub-singleuser\` (notebook 6.4.12 app) exec'd as the same user against a fake hub API, from exec to
its first HTTP answer, measured in the same rounds. JupyterHub 3.0 is Debian's, with PAMAuthenticator,
LocalProcessSpawner and configurable-http-proxy 4.5.3. The server is stopped and the user logged out
between rounds.`;
