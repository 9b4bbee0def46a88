/**
 * The single-user server's own start-up inside a hub's login, read from the logs: from the exec
 * (LabHub's `[labhub] <ISO time> starting server` header in the per-user log; JupyterHub's
 * `Spawning …` line) to the server's own "Jupyter Notebook … is running at:" line. Both hubs and the
 * server log in this machine's local time with millisecond precision.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

export function fileSize(path) {
  return existsSync(path) ? statSync(path).size : 0;
}

export function readFrom(path, offset) {
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  if (size <= offset) return '';
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** `[I 2026-11-22 00:51:53.703 …` → epoch ms (local time, as Python's logging writes it). */
function tornadoTime(line) {
  const m = /^\[[A-Z] (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  return m ? new Date(`${m[1]}T${m[2]}`).getTime() : NaN;
}

/** {execAt, listenAt, ms} of the first server start in `text` (a log portion), or null. */
export function singleUserStartFromLog(text) {
  const lines = text.split('\n');
  let execAt = NaN;
  let listenAt = NaN;
  for (const line of lines) {
    if (Number.isNaN(execAt)) {
      const lab = /^\[labhub\] (\S+Z) starting server/.exec(line);
      if (lab) execAt = Date.parse(lab[1]);
      else if (/ JupyterHub spawner:\d+\] Spawning /.test(line)) execAt = tornadoTime(line);
      continue;
    }
    if (/is running at:/.test(line)) {
      listenAt = tornadoTime(line);
      break;
    }
  }
  return Number.isFinite(execAt) && Number.isFinite(listenAt) ? { execAt, listenAt, ms: listenAt - execAt } : null;
}

/**
 * Time the single-user server spent answering the browser's requests (its own log's request
 * durations), leaving out the hub's readiness probe of the bare prefix `/user/<name>/`.
 */
export function singleUserRequestMs(text, user) {
  let ms = 0;
  const probe = new RegExp(`\\] \\d{3} GET /user/${user}/ `);
  for (const line of text.split('\n')) {
    const m = /SingleUserNotebookApp log:\d+\] \d{3} [A-Z]+ .* ([\d.]+)ms$/.exec(line);
    if (m && !probe.test(line)) ms += Number(m[1]);
  }
  return ms;
}
