/**
 * The single-user server's own start-up, without any hub: exec `jupyterhub-singleuser` as the user
 * (setpriv, as LabHub's local spawner does; clean environment, cwd home) against a tiny fake hub API
 * that answers the version probe (`GET /hub/api` → {"version":"3.0.0"} with X-JupyterHub-Version)
 * and activity posts, then probe the server's prefix every 10 ms until it gives any HTTP answer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { freePort, procStat, sleep } from './labhub-bench-sys.mjs';

const CLEAN_PATH = '/usr/local/bin:/usr/bin:/bin';

export async function startFakeHub() {
  const calls = [];
  const server = createServer((req, res) => {
    calls.push({ at: performance.now(), method: req.method, url: req.url });
    req.resume();
    req.on('end', () => {
      res.setHeader('X-JupyterHub-Version', '3.0.0');
      res.setHeader('Content-Type', 'application/json');
      if (req.method === 'GET' && (req.url === '/hub/api' || req.url === '/hub/api/')) return res.end('{"version":"3.0.0"}');
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    apiUrl: `http://127.0.0.1:${port}/hub/api`,
    calls,
    close: () => new Promise((r) => server.close(r)),
  };
}

function probe(url) {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/**
 * Starts the server for `user` and resolves when it answers HTTP: `ms` from the exec to the first
 * answer, `probeMs` when it asked the fake hub for its version, `cpuS` CPU seconds used by then.
 */
export async function singleUserStartup(user, fakeHub, { logFile = '/dev/null', timeoutMs = 60_000 } = {}) {
  const port = await freePort();
  const prefix = `/user/${user.name}/`;
  const token = randomBytes(24).toString('hex');
  const api = fakeHub.apiUrl;
  const env = {
    PATH: CLEAN_PATH,
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    SHELL: '/bin/bash',
    LANG: process.env.LANG ?? 'C.UTF-8',
    JUPYTERHUB_API_TOKEN: token,
    JPY_API_TOKEN: token,
    JUPYTERHUB_CLIENT_ID: `jupyterhub-user-${user.name}`,
    JUPYTERHUB_API_URL: api,
    JUPYTERHUB_ACTIVITY_URL: `${api}/users/${user.name}/activity`,
    JUPYTERHUB_USER: user.name,
    JUPYTERHUB_SERVER_NAME: '',
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}${prefix}`,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([`access:servers!server=${user.name}/`, `access:servers!user=${user.name}`]),
    JUPYTERHUB_OAUTH_SCOPES: JSON.stringify([`access:servers!server=${user.name}/`, `access:servers!user=${user.name}`]),
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
    JUPYTERHUB_HOST: '',
    JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp',
  };
  const out = openSync(logFile, 'a');
  const callsBefore = fakeHub.calls.length;
  const t0 = performance.now();
  const child = spawn('/usr/bin/setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', '/usr/bin/jupyterhub-singleuser'], {
    cwd: user.home,
    env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}${prefix}`;
  let ms = null;
  while (performance.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`jupyterhub-singleuser exited (${child.exitCode}) before answering; see ${logFile}`);
    const status = await probe(url);
    if (status !== null) {
      ms = performance.now() - t0;
      break;
    }
    await sleep(10);
  }
  if (ms === null) throw new Error(`jupyterhub-singleuser did not answer within ${timeoutMs} ms`);
  const st = procStat(child.pid);
  const versionCall = fakeHub.calls.slice(callsBefore).find((c) => c.method === 'GET');
  return {
    ms,
    probeMs: versionCall ? versionCall.at - t0 : null,
    cpuS: st ? (st.utime + st.stime) / 100 : null,
    async stop() {
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
