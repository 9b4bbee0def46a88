/**
 * LabHub as a student's lab runs it: `labhub serve --config FILE` from the build in dist/
 * (the hub, which starts its own proxy process), state and logs in a temp dir, everything on
 * 127.0.0.1 with free ports.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, childrenMatching, freePorts, kill, rssKb, sleep, waitGone } from './labhub-bench-sys.mjs';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(REPO, 'dist', 'hub', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Throws when there is no build; warns when hub/ has changed since the last build. */
export function checkBuild() {
  if (!existsSync(MAIN)) throw new Error(`no LabHub build at ${MAIN}: run \`npm run build\` first`);
  if (newestMtime(join(REPO, 'hub')) > statSync(MAIN).mtimeMs) {
    console.warn('warning: hub/ has changed since dist/ was built; run `npm run build` to measure the current code');
  }
}

/**
 * @param extraEnv e.g. { NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' } for an investigation
 * @param spawner merged into the config's `spawner` section, e.g. { launcher: { enabled: false } }
 */
export async function startLabHub({ logLevel, extraEnv = {}, spawner } = {}) {
  checkBuild();
  const dir = mkdtempSync(join(tmpdir(), 'lhbench-labhub-'));
  const dataDir = join(dir, 'data');
  const [port, hubPort, apiPort] = await freePorts(3);
  const config = { ip: '127.0.0.1', port, dataDir, hub: { ip: '127.0.0.1', port: hubPort }, proxy: { apiIp: '127.0.0.1', apiPort } };
  if (logLevel) config.logLevel = logLevel;
  if (spawner) config.spawner = spawner;
  const configFile = join(dir, 'labhub.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const outFile = join(dir, 'serve.out');
  const out = openSync(outFile, 'a');
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8', HOME: '/root', ...extraEnv };
  // run the built entry point itself, as the installed `labhub` command runs (its shebang's V8 flags apply)
  const child = spawn(MAIN, ['serve', '--config', configFile], { cwd: dir, env, stdio: ['ignore', out, out] });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const logDir = join(dataDir, 'logs');
  const hub = {
    name: 'LabHub',
    url,
    dir,
    dataDir,
    logDir,
    configFile,
    pid: child.pid,
    /** Hub and proxy pids: the `labhub serve` process and the `labhub proxy` process it started. */
    pids() {
      const proxy = childrenMatching(child.pid, /main\.js proxy/);
      return { hub: child.pid, proxy: proxy[0] ?? null };
    },
    rssKb() {
      const { hub: h, proxy: p } = hub.pids();
      return { hub: rssKb(h), proxy: p ? rssKb(p) : 0 };
    },
    log() {
      const f = join(logDir, 'hub.log');
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    /** `server ready` log lines → {user, ms} in log order. */
    spawnTimes() {
      const out = [];
      for (const line of hub.log().split('\n')) {
        if (!line.includes('server ready')) continue;
        try {
          const j = JSON.parse(line);
          if (j.msg === 'server ready') out.push({ user: j.user, ms: j.ms });
        } catch {
          // not JSON
        }
      }
      return out;
    },
    /** The log the user's single-user server writes to. */
    singleUserLog(user) {
      return join(logDir, 'users', `${user}.log`);
    },
    output() {
      return existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    },
    async stop() {
      const proxyPid = hub.pids().proxy;
      if (alive(child.pid)) {
        kill(child.pid, 'SIGTERM');
        if (!(await waitGone(child.pid, 30_000))) kill(child.pid, 'SIGKILL');
      }
      if (proxyPid && alive(proxyPid)) {
        kill(proxyPid, 'SIGTERM');
        if (!(await waitGone(proxyPid, 10_000))) kill(proxyPid, 'SIGKILL');
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`labhub serve exited at start (${child.exitCode}):\n${hub.output().slice(-3000)}`);
    try {
      const r = await fetch(`${url}/hub/api`);
      await r.text();
      if (r.status === 200 && hub.pids().proxy) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await hub.stop();
      throw new Error(`labhub did not answer through its proxy within 60 s:\n${hub.output().slice(-3000)}`);
    }
    await sleep(100);
  }
  return hub;
}
