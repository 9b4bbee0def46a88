#!/usr/bin/env node
// HTTPS vs HTTP through LabHub's proxy, side by side in one run: the same proxy code (dist/) in
// its own process, once plain and once with `proxy.tls` (an EC P-256 certificate from
// `labhub tls init`), in front of the tiny backend. `wrk -t2 -c64 --latency` per target, keep-alive
// (the browser case: one handshake, many requests) and with `Connection: close` (a TLS handshake
// per request: the worst case, e.g. a class logging in at once); targets interleaved over several
// rounds, the median round reported. Debian's wrk speaks https (it does not verify certificates).
//   node bench/proxy-https.mjs [--seconds 10] [--rounds 3] [--warmup 3]
// (internally `node bench/proxy-https.mjs --serve TARGET [TLSDIR]` is one proxy process)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const dist = new URL('../dist/hub/', import.meta.url);

if (process.argv[2] === '--serve') {
  const [target, tlsDir] = process.argv.slice(3);
  const { createProxy } = await import(new URL('proxy/server.js', dist).href);
  const { createLogger } = await import(new URL('log.js', dist).href);
  const dataDir = mkdtempSync(join(tmpdir(), 'labhub-bench-'));
  // info level, as in production: 2xx access lines are debug, so they cost nothing
  const logger = createLogger({ name: 'proxy', level: 'info' });
  const tls = tlsDir ? { cert: join(tlsDir, 'server.crt'), key: join(tlsDir, 'server.key'), pollMs: 0 } : undefined;
  const proxy = createProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, dataDir, token: 'bench', logger, defaultTarget: target, closeGraceMs: 100, tls });
  await proxy.listen();
  process.stdout.write(JSON.stringify({ port: proxy.publicAddress().port }) + '\n');
  process.on('SIGTERM', () =>
    proxy.close().then(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    }),
  );
} else {
  const { checkPrerequisites, cpuSeconds, machineNote, median, parseWrk, startProcess } = await import('./lib/harness.mjs');
  const { startBackend } = await import('./lib/targets.mjs');
  const { tlsInit } = await import(new URL('tls/init.js', dist).href);
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, warmup: { type: 'string', default: '3' } } });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  const problems = checkPrerequisites();
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }

  const wrk = (url, secs, close) =>
    new Promise((resolve, reject) => {
      const args = ['-t2', '-c64', `-d${secs}s`, '--latency', ...(close ? ['-H', 'Connection: close'] : []), url];
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(parseWrk(out)) : reject(new Error(`wrk failed (${code}): ${out}`))));
    });

  const tmp = mkdtempSync(join(tmpdir(), 'labhub-bench-tls-'));
  const tlsDir = join(tmp, 'tls');
  await tlsInit({ dir: tlsDir, machineIps: false });
  const self = fileURLToPath(import.meta.url);
  const backend = await startBackend();
  const procs = [];
  const startProxy = async (withTls) => {
    const { proc, info } = await startProcess(withTls ? 'labhub-https' : 'labhub-http', process.execPath, [self, '--serve', backend.url, ...(withTls ? [tlsDir] : [])], { jsonLine: true });
    procs.push(proc);
    return { proc, url: `${withTls ? 'https' : 'http'}://127.0.0.1:${info.port}/` };
  };
  // one request per new connection, one at a time, from a Node client that verifies the certificate:
  // what the first request of a page costs, TLS handshake included
  const ca = readFileSync(join(tlsDir, 'ca.crt'));
  const sequential = async (url, n) => {
    const u = new URL(url);
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await new Promise((resolve, reject) => {
        const mod = u.protocol === 'https:' ? https : http;
        const req = mod.get({ host: u.hostname, port: u.port, path: '/', servername: 'localhost', ca, agent: false, headers: { Connection: 'close' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
      });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { p50: times[Math.floor(n / 2)], p99: times[Math.floor(n * 0.99)] };
  };
  const connects = [];
  const targets = [];
  try {
    const plain = await startProxy(false);
    const secure = await startProxy(true);
    targets.push(
      { name: 'LabHub proxy, http, keep-alive', ...plain, close: false },
      { name: 'LabHub proxy, https, keep-alive', ...secure, close: false },
      { name: 'LabHub proxy, http, new connection per request', ...plain, close: true },
      { name: 'LabHub proxy, https, new connection (TLS handshake) per request', ...secure, close: true },
    );
    for (const t of targets) {
      await wrk(t.url, warmup, t.close);
      t.runs = [];
    }
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        const pid = t.proc.pid;
        const cpu0 = cpuSeconds(pid);
        const res = await wrk(t.url, seconds, t.close);
        res.cpuPerReqUs = ((cpuSeconds(pid) - cpu0) / (res.rps * seconds)) * 1e6;
        t.runs.push(res);
        console.error(`round ${r + 1} ${t.name}: ${res.rps.toFixed(0)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, errors ${res.non2xx + res.socketErrors}`);
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const [i, t] of [plain, secure].entries()) {
        const res = await sequential(t.url, 300);
        (connects[i] ??= []).push(res);
        console.error(`round ${r + 1} new connection, sequential, ${i ? 'https' : 'http'}: p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms`);
      }
    }
  } finally {
    for (const p of procs) await p.stop();
    await backend.proc.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const summary = targets.map((t) => ({
    name: t.name,
    rps: median(t.runs.map((x) => x.rps)),
    p50: median(t.runs.map((x) => x.p50)),
    p99: median(t.runs.map((x) => x.p99)),
    cpu: median(t.runs.map((x) => x.cpuPerReqUs)),
    errors: t.runs.reduce((a, x) => a + x.non2xx + x.socketErrors, 0),
    all: t.runs.map((x) => Math.round(x.rps)).join(' / '),
  }));
  console.log(`\n### HTTPS vs HTTP through LabHub's proxy: wrk -t2 -c64 -d${seconds}s, ${rounds} interleaved rounds (median), ${new Date().toISOString().slice(0, 10)}`);
  console.log(`Machine: ${machineNote()}; wrk, backend and proxy share the CPUs. Certificate: EC P-256 from \`labhub tls init\`.\n`);
  console.log('| target | req/s (median) | every round | p50 ms | p99 ms | proxy CPU µs/req | errors |');
  console.log('|---|---:|---|---:|---:|---:|---:|');
  for (const s of summary) {
    console.log(`| ${s.name} | ${s.rps.toFixed(0)} | ${s.all} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.cpu.toFixed(1)} | ${s.errors} |`);
  }
  console.log(`\nhttps / http, keep-alive: ${(summary[1].rps / summary[0].rps).toFixed(2)}× throughput; with a new connection per request: ${(summary[3].rps / summary[2].rps).toFixed(2)}×`);
  console.log('\n| one request on a new connection, sequential (Node client verifying the certificate), 300 × ' + rounds + ' rounds | p50 ms (median) | p99 ms (median) |');
  console.log('|---|---:|---:|');
  for (const [i, name] of ['http', 'https (TLS 1.3 handshake included)'].entries()) {
    console.log(`| ${name} | ${median(connects[i].map((x) => x.p50)).toFixed(2)} | ${median(connects[i].map((x) => x.p99)).toFixed(2)} |`);
  }
}
