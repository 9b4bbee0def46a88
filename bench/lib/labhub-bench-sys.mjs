/**
 * System helpers shared by the login and memory benchmarks: free ports, test users, process
 * trees and their resident memory, statistics, and a machine note. Node built-ins only.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Distinct free ports (a port just released is not handed out twice by this call). */
export async function freePorts(n) {
  const out = new Set();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

export function run(cmd, args, { input, allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r;
}

export function runAsync(cmd, args) {
  return new Promise((resolve) => execFile(cmd, args, (err, stdout, stderr) => resolve({ err, stdout, stderr })));
}

// ---------------------------------------------------------------- test users

const USER_PREFIX = 'lhbench';

/** Creates `n` Linux users `lhbench1…n` (home, random password) and returns [{name, password, uid, gid, home}]. */
export function createUsers(n, prefix = USER_PREFIX) {
  if (process.getuid() !== 0) throw new Error('the benchmark must run as root (it creates Linux users and runs hubs that setuid)');
  const users = [];
  for (let i = 1; i <= n; i++) {
    const name = `${prefix}${i}`;
    if (run('id', ['-u', name], { allowFail: true }).status === 0) removeUser(name);
    run('useradd', ['-m', '-s', '/bin/bash', name]);
    const password = `Bench-${randomBytes(9).toString('base64url')}`;
    run('chpasswd', [], { input: `${name}:${password}\n` });
    const uid = Number(run('id', ['-u', name]).stdout.trim());
    const gid = Number(run('id', ['-g', name]).stdout.trim());
    users.push({ name, password, uid, gid, home: `/home/${name}` });
  }
  return users;
}

export function removeUser(name) {
  if (!name.startsWith(USER_PREFIX)) throw new Error(`refusing to remove ${name}`);
  run('pkill', ['-KILL', '-u', name], { allowFail: true });
  // userdel fails while a process of the user is still being reaped: retry briefly
  for (let i = 0; i < 20; i++) {
    const r = run('userdel', ['-r', name], { allowFail: true });
    if (r.status === 0 || r.status === 6 /* no such user */) return;
    spawnSync('sleep', ['0.2']);
    run('pkill', ['-KILL', '-u', name], { allowFail: true });
  }
}

/** Every `lhbench*` user on the machine (also leftovers of an aborted run). */
export function listBenchUsers(prefix = USER_PREFIX) {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':')[0])
    .filter((n) => n && n.startsWith(prefix));
}

export function removeUsers(prefix = USER_PREFIX) {
  for (const name of listBenchUsers(prefix)) removeUser(name);
}

/**
 * Runs `fn` with cleanup on every way out: normal end, exception, SIGINT/SIGTERM. `cleanup` must be
 * synchronous-safe (it is also called from a signal handler before exit).
 */
export async function withCleanup(cleanup, fn) {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    try {
      await cleanup();
    } catch (err) {
      console.error('cleanup failed:', err);
    }
  };
  const onSignal = (sig) => {
    console.error(`\n${sig}: cleaning up…`);
    once().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn();
  } finally {
    await once();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// ---------------------------------------------------------------- processes

export function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0], ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return null;
  }
}

export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** VmRSS of a process in kB (0 when it is gone). */
export function rssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** All live processes as {pid, ppid}. */
export function processTable() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(Number(d));
    if (st) out.push(st);
  }
  return out;
}

/** Direct children of `pid` whose command line matches `re`. */
export function childrenMatching(pid, re) {
  return processTable()
    .filter((p) => p.ppid === pid && re.test(cmdline(p.pid).join(' ')))
    .map((p) => p.pid);
}

/** Sends `signal` to a process, ignoring a process that is already gone. */
export function kill(pid, signal = 'SIGTERM') {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function alive(pid) {
  const st = procStat(pid);
  return !!st && st.state !== 'Z';
}

export async function waitGone(pid, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

// ---------------------------------------------------------------- statistics

export function median(xs) {
  return quantile(xs, 0.5);
}

export function quantile(xs, q) {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const fmtS = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');
export const fmtMs = (ms) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');
export const fmtMB = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : 'n/a');
export const yesNo = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? '**yes**' : '**no**');

export function machineNote() {
  const c = cpus();
  let distro = '';
  try {
    distro = /^PRETTY_NAME="?([^"\n]+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux
  }
  return `${c.length} cores (${c[0]?.model?.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, ${distro}, Node ${process.version}`;
}

/** CPU load of the machine over the last minute, to flag a run that was not on a quiet machine. */
export function loadAvg() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return '?';
  }
}

/** CPU time used so far by all threads of a process, in ms (summed over /proc/<pid>/task/<tid>/schedstat, ns precision). */
export function cpuMs(pid) {
  let ns = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // thread ended
      }
    }
  } catch {
    return 0;
  }
  return ns / 1e6;
}

function cpuTotals() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  return { idle, total: f.reduce((a, b) => a + b, 0) };
}

/** Share of the machine's CPU that was busy during the next `ms` (0…1). */
export async function cpuBusy(ms = 1000) {
  const a = cpuTotals();
  await sleep(ms);
  const b = cpuTotals();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

/**
 * Waits (up to `maxS` seconds) until the machine is quiet: under `limit` CPU busy over 2 s, so other
 * work does not skew the figures. Returns the last busy share measured.
 */
export async function waitQuiet({ limit = 0.1, maxS = 0 } = {}) {
  const end = Date.now() + maxS * 1000;
  for (;;) {
    const busy = await cpuBusy(2000);
    if (busy < limit || Date.now() >= end) {
      if (busy >= limit) console.warn(`warning: the machine is busy (${Math.round(busy * 100)} % CPU) before the run; figures will be noisy`);
      return busy;
    }
    console.log(`waiting for a quiet machine (${Math.round(busy * 100)} % CPU busy)…`);
  }
}

/** Private (unshared) resident memory of a process in kB: Private_Clean + Private_Dirty of smaps_rollup. */
export function ussKb(pid) {
  try {
    const r = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const g = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(r)?.[1] ?? 0);
    return g('Private_Clean') + g('Private_Dirty');
  } catch {
    return 0;
  }
}
