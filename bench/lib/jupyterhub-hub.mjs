/**
 * JupyterHub 3.0 as Debian ships it, set up as the reference: PAMAuthenticator and
 * LocalProcessSpawner (both defaults), the classic notebook app, a clean PATH, Debian's
 * configurable-http-proxy 4.5.3 (NODE_PATH=/usr/share/nodejs under this Node), state in a temp dir,
 * everything on 127.0.0.1 with free ports.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, childrenMatching, freePorts, kill, rssKb, sleep, waitGone } from './labhub-bench-sys.mjs';

const CLEAN_PATH = '/usr/local/bin:/usr/bin:/bin';

export async function startJupyterHub({ debug = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lhbench-jupyterhub-'));
  const [port, hubPort, apiPort] = await freePorts(3);
  const config = `
c = get_config()  # noqa
c.JupyterHub.bind_url = 'http://127.0.0.1:${port}'
c.JupyterHub.hub_bind_url = 'http://127.0.0.1:${hubPort}'
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:${apiPort}'
c.ConfigurableHTTPProxy.pid_file = ${JSON.stringify(join(dir, 'jupyterhub-proxy.pid'))}
c.JupyterHub.db_url = ${JSON.stringify(`sqlite:///${join(dir, 'jupyterhub.sqlite')}`)}
c.JupyterHub.cookie_secret_file = ${JSON.stringify(join(dir, 'jupyterhub_cookie_secret'))}
c.JupyterHub.cleanup_servers = True
c.Spawner.cmd = ['/usr/bin/jupyterhub-singleuser']
c.Spawner.environment = {'JUPYTERHUB_SINGLEUSER_APP': 'notebook.notebookapp.NotebookApp'}
${debug ? 'c.JupyterHub.log_level = "DEBUG"' : ''}
`;
  writeFileSync(join(dir, 'jupyterhub_config.py'), config);
  const logFile = join(dir, 'jupyterhub.log');
  const out = openSync(logFile, 'a');
  const env = {
    PATH: CLEAN_PATH,
    NODE_PATH: '/usr/share/nodejs',
    HOME: dir,
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  const child = spawn('/usr/bin/jupyterhub', ['-f', join(dir, 'jupyterhub_config.py')], {
    cwd: dir,
    env,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const hub = {
    name: 'JupyterHub 3.0',
    url,
    dir,
    logFile,
    pid: child.pid,
    /** Hub and proxy pids: the jupyterhub process and its configurable-http-proxy child. */
    pids() {
      const proxy = childrenMatching(child.pid, /configurable-http-proxy/);
      return { hub: child.pid, proxy: proxy[0] ?? null };
    },
    rssKb() {
      const { hub: h, proxy: p } = hub.pids();
      return { hub: rssKb(h), proxy: p ? rssKb(p) : 0 };
    },
    /** LocalProcessSpawner's servers write to the hub's own output. */
    singleUserLog() {
      return logFile;
    },
    log() {
      return readFileSync(logFile, 'utf8');
    },
    /** "User x took 1.234 seconds to start" lines → ms per user, in log order. */
    spawnTimes() {
      return [...hub.log().matchAll(/User (\S+) took ([\d.]+) seconds to start/g)].map((m) => ({ user: m[1], ms: Number(m[2]) * 1000 }));
    },
    async stop() {
      const proxyPid = hub.pids().proxy;
      if (alive(child.pid)) {
        kill(child.pid, 'SIGTERM');
        if (!(await waitGone(child.pid, 30_000))) kill(child.pid, 'SIGKILL');
      }
      if (proxyPid && alive(proxyPid)) {
        kill(proxyPid, 'SIGTERM');
        await waitGone(proxyPid, 5_000);
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jupyterhub exited at start (${child.exitCode}):\n${hub.log().slice(-3000)}`);
    try {
      const r = await fetch(`${url}/hub/api`);
      await r.text();
      if (r.status === 200 && hub.pids().proxy) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await hub.stop();
      throw new Error(`jupyterhub did not answer within 60 s:\n${hub.log().slice(-3000)}`);
    }
    await sleep(100);
  }
  return hub;
}
