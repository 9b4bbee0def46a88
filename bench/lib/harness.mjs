// Shared helpers for the proxy benchmarks: child processes, free ports, wrk runs and parsing.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoDir = dirname(benchDir);

/** A port that was free a moment ago (CHP needs explicit ports). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a child process. With `jsonLine`, resolves with the first JSON line it prints on stdout
 * (our own helpers print their ports that way).
 */
export function startProcess(name, cmd, args, { env = {}, jsonLine = false } = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const proc = {
    name,
    child,
    pid: child.pid,
    stderr: () => stderr,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
  if (!jsonLine) {
    child.stdout.resume();
    return Promise.resolve({ proc, info: null });
  }
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      try { resolve({ proc, info: JSON.parse(buf.slice(0, nl)) }); } catch (err) { reject(err); }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready: ${stderr}`)));
  });
}

/** CPU seconds (user+system) a process has used so far, from /proc. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size in MB, from /proc. */
export function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function toMs(value) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Parses `wrk --latency` output. */
export function parseWrk(text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const pct = (p) => { const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(text); return m ? toMs(m[1]) : NaN; };
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1];
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    non2xx: errors ? Number(errors) : 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/** Runs wrk and returns the parsed result. */
export function runWrk(url, { threads = 2, connections = 64, seconds = 10 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(parseWrk(out)) : reject(new Error(`wrk failed (${code}): ${out}`))));
  });
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Checks the tools the benchmarks need, with the command that installs each. */
export function checkPrerequisites({ needWrk = true } = {}) {
  const problems = [];
  if (needWrk) {
    try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }); } catch (err) {
      if (err.code === 'ENOENT') problems.push('wrk is missing: apt-get install -y wrk');
    }
  }
  if (!existsSync(join(repoDir, 'dist/hub/proxy/server.js'))) problems.push('dist/ is missing: run `npm run build` (or `npx tsc -p tsconfig.json`) first');
  return problems;
}

export function machineNote() {
  const cpus = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpus)?.[1]?.trim() ?? 'unknown CPU';
  const n = (cpus.match(/^processor\s*:/gm) ?? []).length;
  // other work on the machine skews everything: say how busy it was when the run started
  return `${n} × ${model}, Node ${process.version}, load average at start ${loadavg()[0].toFixed(2)}`;
}
