/**
 * A fresh Debian 12 machine for the installer's tests: a container from an image that
 * `mmdebstrap` builds from Debian's packages (no registry), cached as `labhub-test/debian12:base`.
 * `--network host` lets apt inside reach the same mirror as this machine (and the tests reach the
 * installed proxy on 127.0.0.1:8000); `--network none` stands for a machine without the mirror.
 * systemd is not PID 1 in these containers, so the installer's own supervision is what runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BASE_IMAGE = 'labhub-test/debian12:base';
/** The host's apt settings the mirror needs (a snapshot mirror: no Valid-Until checks). */
const APT_CONF = '/etc/apt/apt.conf.d/99artifact-registry';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

async function must(argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** Starts dockerd if needed (scripts/docker-up.sh), removes machines an interrupted run left, and builds the base image once. */
export async function ensureBaseImage(): Promise<void> {
  await must(['bash', join(ROOT, 'scripts/docker-up.sh')], { timeoutMs: 300_000 });
  const leftovers = (await must(['docker', 'ps', '-aq', '--filter', 'label=org.labhub.test=installer'])).split('\n').filter(Boolean);
  if (leftovers.length) await must(['docker', 'rm', '-f', ...leftovers]);
  if ((await run(['docker', 'image', 'inspect', BASE_IMAGE])).code === 0) return;
  if ((await run(['sh', '-c', 'command -v mmdebstrap'])).code !== 0) {
    await must(['sh', '-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null']);
  }
  // minbase: what a fresh minimal Debian 12 has (no systemd, no curl, no Node)
  const script = [
    `mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"' bookworm -`,
    `"deb http://deb.debian.org/debian bookworm main" "deb http://deb.debian.org/debian bookworm-updates main" "deb http://deb.debian.org/debian-security bookworm-security main"`,
    `| docker import --change 'LABEL org.labhub.test=debian12-base' --change 'CMD ["/bin/bash"]' - ${BASE_IMAGE}`,
  ].join(' ');
  await must(['bash', '-o', 'pipefail', '-c', script], { timeoutMs: 600_000 });
}

let releaseDir: string | null = null;

/** The release tarball of this checkout (installer/make-release.sh over the current dist/), made once per test file. */
export async function buildRelease(): Promise<string> {
  if (releaseDir) return join(releaseDir, readdirSync(releaseDir)[0]!);
  const dir = mkdtempSync(join(tmpdir(), 'labhub-release-'));
  const out = (await must(['bash', join(ROOT, 'installer/make-release.sh'), '--skip-build', '--out', dir], { timeoutMs: 300_000 })).trim().split('\n').pop()!;
  if (!existsSync(out)) throw new Error(`make-release.sh printed ${out}, which does not exist`);
  releaseDir = dir;
  return out;
}

export function removeRelease(): void {
  if (releaseDir) rmSync(releaseDir, { recursive: true, force: true });
  releaseDir = null;
}

/** True when something listens on 127.0.0.1:port (the installed proxy shares the host's network). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** One fresh Debian 12 container with the release unpacked in /root/labhub-<version>. */
export class TestMachine {
  private constructor(
    readonly name: string,
    readonly installer: string,
  ) {}

  static async start(opts: { network: 'host' | 'none'; release: string }): Promise<TestMachine> {
    const name = `labhub-installer-test-${process.pid}-${Date.now().toString(36)}`;
    // --init: a real init reaps orphans, as on a machine
    await must(['docker', 'run', '-d', '--name', name, '--init', '--label', 'org.labhub.test=installer', `--network=${opts.network}`, '-v', `${APT_CONF}:${APT_CONF}:ro`, BASE_IMAGE, 'sleep', 'infinity']);
    const m = new TestMachine(name, '');
    await must(['docker', 'cp', opts.release, `${name}:/root/release.tar.gz`]);
    await m.must('cd /root && tar -xzf release.tar.gz && rm release.tar.gz');
    const dir = (await m.must('ls -d /root/labhub-*')).trim();
    return new TestMachine(name, `${dir}/installer/install.sh`);
  }

  /** bash -c SCRIPT in the container (as root unless `user`). */
  sh(script: string, opts: { user?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const argv = ['docker', 'exec', '-i'];
    if (opts.user) argv.push('-u', opts.user);
    return run([...argv, this.name, 'bash', '-c', script], opts);
  }

  async must(script: string, opts: { user?: string; input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.sh(script, opts);
    if (r.code !== 0) throw new Error(`in ${this.name}: ${script} exited ${r.code}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    return r.stdout;
  }

  /** Runs install.sh with ARGS (as root unless `user`). */
  install(args: string[] = [], opts: { user?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)} `).join('');
    return this.sh(`${env}bash ${this.installer} ${args.map(shellQuote).join(' ')}`, { user: opts.user, timeoutMs: 600_000 });
  }

  private baseline = new Set<string>();

  /** Remembers the filesystem changes so far (the test's own setup) for `changes()`. */
  async markBaseline(): Promise<void> {
    this.baseline = new Set((await must(['docker', 'diff', this.name])).split('\n'));
  }

  /** What changed in the container's filesystem since `markBaseline()` (a changed /tmp aside). */
  async changes(): Promise<string[]> {
    const out = await must(['docker', 'diff', this.name]);
    return out.split('\n').filter((l) => l && !this.baseline.has(l) && l !== 'C /tmp');
  }

  async remove(): Promise<void> {
    await run(['docker', 'rm', '-f', this.name]);
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
