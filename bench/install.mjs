#!/usr/bin/env node
/**
 * Installer speed (issue 8): a fresh install of the release tarball on a fresh Debian 12 machine
 * (packages from the mirror), then re-runs of the installer (the upgrade path: program swapped,
 * hub restarted, proxy left running). Targets: fresh install < 5 minutes, re-run upgrade < 1 minute.
 *
 *   node bench/install.mjs [--rounds 1] [--upgrades 2] [--no-write] [--keep]
 *
 * The "machine" is a container of the image the installer tests build with mmdebstrap
 * (`labhub-test/debian12:base`; built here when missing), run with the host's network so apt uses
 * the same mirror, as test/integration/installer.test.ts does. Each step's time is taken from when
 * its "==> [i/N]" line appears. Needs root, dockerd (scripts/docker-up.sh is run), a build (dist/),
 * and ports 8000, 8001 and 8081 free.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineNote } from './lib/harness.mjs';
import { parseArgs } from './lib/labhub-bench-args.mjs';
import { appendRun } from './lib/labhub-bench-results.mjs';
import { REPO } from './lib/labhub-hub.mjs';

const args = parseArgs(process.argv.slice(2), { rounds: 1, upgrades: 2, noWrite: false, keep: false });
const IMAGE = 'labhub-test/debian12:base';
const APT_CONF = '/etc/apt/apt.conf.d/99artifact-registry';

function must(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}:\n${(r.stdout ?? '').slice(-2000)}\n${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout;
}

/** A short name for one of install.sh's step lines (installer/install.sh, "the plan"). */
function stepName(text) {
  for (const [re, name] of [[/^install /, 'packages'], [/^build /, 'build'], [/^put LabHub/, 'program'], [/config\.json/, 'config'], [/^HTTPS/, 'tls'], [/systemd|supervision/, 'services'], [/^wait /, 'hub answers']]) {
    if (re.test(text)) return name;
  }
  return text.slice(0, 20);
}

/** Runs install.sh in the container; resolves with the total seconds and the seconds of each step. */
function timedInstall(container, installer, extra = []) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('docker', ['exec', container, 'bash', installer, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const steps = [];
    let out = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const lines = (pending + d).split('\n');
      pending = lines.pop();
      for (const l of lines) {
        const m = /^==> \[(\d+)\/(\d+)\] (.*)$/.exec(l.replace(/\x1b\[[0-9;]*m/g, ''));
        if (m) steps.push({ name: stepName(m[3]), at: (performance.now() - t0) / 1000 });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const total = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`install.sh ${extra.join(' ')} exited ${code}:\n${out.slice(-3000)}`));
      const timed = steps.map((s, i) => ({ name: s.name, seconds: (steps[i + 1]?.at ?? total) - s.at }));
      resolve({ total, checks: steps[0]?.at ?? total, steps: timed });
    });
  });
}

const fmt = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${(s % 60).toFixed(0)} s` : `${s.toFixed(1)} s`);

async function main() {
  if (process.getuid() !== 0) throw new Error('run as root (docker, and the installer runs as root in the container)');
  for (const port of [8000, 8001, 8081]) {
    if (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0) throw new Error(`port ${port} is in use; the container shares this machine's network`);
  }
  must(['bash', join(REPO, 'scripts/docker-up.sh')]);
  if (spawnSync('docker', ['image', 'inspect', IMAGE]).status !== 0) {
    console.log(`building ${IMAGE} with mmdebstrap`);
    must(['bash', '-o', 'pipefail', '-c', `command -v mmdebstrap >/dev/null || (apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null); mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"' bookworm - "deb http://deb.debian.org/debian bookworm main" "deb http://deb.debian.org/debian bookworm-updates main" "deb http://deb.debian.org/debian-security bookworm-security main" | docker import --change 'LABEL org.labhub.test=debian12-base' --change 'CMD ["/bin/bash"]' - ${IMAGE}`]);
  }
  const note = machineNote();
  const relDir = mkdtempSync(join(tmpdir(), 'labhub-bench-release-'));
  const r0 = performance.now();
  must(['bash', join(REPO, 'installer/make-release.sh'), '--skip-build', '--out', relDir]);
  const releaseSeconds = (performance.now() - r0) / 1000;
  const tarball = join(relDir, readdirSync(relDir)[0]);
  const rounds = [];
  try {
    for (let round = 1; round <= args.rounds; round++) {
      const name = `labhub-bench-install-${process.pid}-${round}`;
      must(['docker', 'run', '-d', '--name', name, '--init', '--network=host', '-v', `${APT_CONF}:${APT_CONF}:ro`, IMAGE, 'sleep', 'infinity']);
      try {
        must(['docker', 'cp', tarball, `${name}:/root/release.tar.gz`]);
        must(['docker', 'exec', name, 'bash', '-c', 'cd /root && tar -xzf release.tar.gz']);
        const installer = must(['docker', 'exec', name, 'bash', '-c', 'ls -d /root/labhub-*/installer/install.sh']).trim();
        console.log(`round ${round}: fresh install…`);
        const fresh = await timedInstall(name, installer, ['--admin', 'teacher']);
        console.log(`  ${fmt(fresh.total)}`);
        const upgrades = [];
        for (let u = 0; u < args.upgrades; u++) {
          const up = await timedInstall(name, installer);
          console.log(`  upgrade ${u + 1}: ${fmt(up.total)}`);
          upgrades.push(up);
        }
        rounds.push({ fresh, upgrades });
      } finally {
        if (!args.keep) spawnSync('docker', ['rm', '-f', name]);
      }
    }
  } finally {
    rmSync(relDir, { recursive: true, force: true });
  }

  const worstFresh = Math.max(...rounds.map((r) => r.fresh.total));
  const worstUpgrade = Math.max(...rounds.flatMap((r) => r.upgrades.map((u) => u.total)));
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const lines = [
    `### Run ${when} UTC`,
    '',
    `${note}; release tarball made in ${fmt(releaseSeconds)}.`,
    '',
    '| | total | checks (incl. apt lists) | steps |',
    '|---|---|---|---|',
  ];
  rounds.forEach((r, i) => {
    const row = (label, x) => `| ${label} | **${fmt(x.total)}** | ${fmt(x.checks)} | ${x.steps.map((s) => `${s.name}: ${fmt(s.seconds)}`).join('; ')} |`;
    lines.push(row(`round ${i + 1}: fresh install`, r.fresh));
    r.upgrades.forEach((u, j) => lines.push(row(`round ${i + 1}: re-run (upgrade) ${j + 1}`, u)));
  });
  lines.push('', `Targets: fresh install < 5 min: **${worstFresh < 300 ? 'met' : 'NOT met'}** (worst ${fmt(worstFresh)}); re-run upgrade < 1 min: **${worstUpgrade < 60 ? 'met' : 'NOT met'}** (worst ${fmt(worstUpgrade)}).`);
  const block = lines.join('\n');
  console.log(`\n${block}`);
  if (!args.noWrite) {
    appendRun(
      'Installer: fresh install and upgrade',
      '`node bench/install.mjs` (see README): `installer/install.sh --admin teacher` from the release tarball on a fresh Debian 12 container (mmdebstrap minbase image, host network, packages from the mirror: jupyterhub, notebook, ipykernel, restic and their dependencies), until the hub answers through the proxy; then re-runs of the same installer (the upgrade path: config and state kept, program swapped, hub restarted, proxy left running).',
      block,
    );
  }
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exitCode = 1;
});
