#!/usr/bin/env node
// HTTP throughput and latency, side by side in one run: the backend direct, LabHub's proxy,
// configurable-http-proxy 4.5.3 (Debian) and 5.x (npm). `wrk -t2 -c64 -d10s --latency` per target,
// targets interleaved over several rounds; the median round is reported.
//   node bench/proxy-http.mjs [--seconds 10] [--rounds 3] [--warmup 3]
import { parseArgs } from 'node:util';
import { checkPrerequisites, cpuSeconds, machineNote, median, runWrk } from './lib/harness.mjs';
import { chp5Version, ensureChps, startBackend, startChp4, startChp5, startLabhub } from './lib/targets.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, warmup: { type: 'string', default: '3' } } });
const machine = machineNote();
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);

const problems = [...checkPrerequisites(), ...ensureChps()];
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}

const backend = await startBackend();
const targets = [{ name: 'direct (no proxy)', url: backend.url, proc: null }];
const started = [];
try {
  for (const start of [startLabhub, startChp4, startChp5]) {
    const t = await start(backend.url);
    started.push(t);
    targets.push(t);
  }
  const chp5 = targets[3];
  chp5.name = `CHP ${chp5Version()} (npm)`;
  for (const t of targets) {
    await runWrk(t.url + '/', { seconds: warmup });
    t.runs = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const pid = t.proc?.pid;
      const cpu0 = pid ? cpuSeconds(pid) : 0;
      const res = await runWrk(t.url + '/', { seconds });
      res.cpuPerReqUs = pid ? ((cpuSeconds(pid) - cpu0) / (res.rps * seconds)) * 1e6 : NaN;
      t.runs.push(res);
      console.error(`round ${r + 1} ${t.name}: ${res.rps.toFixed(0)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, errors ${res.non2xx + res.socketErrors}`);
    }
  }
} finally {
  for (const t of started) await t.proc.stop();
  await backend.proc.stop();
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
const labhub = summary[1];
const chp5 = summary[3];
const ratio = labhub.rps / chp5.rps;
const p99ratio = labhub.p99 / chp5.p99;

console.log(`\n### HTTP: wrk -t2 -c64 -d${seconds}s, ${rounds} interleaved rounds (median), ${new Date().toISOString().slice(0, 10)}`);
console.log(`Machine: ${machine}; wrk, backend and proxy share the CPUs.\n`);
console.log('| target | req/s (median) | every round | p50 ms | p99 ms | proxy CPU µs/req | errors |');
console.log('|---|---:|---|---:|---:|---:|---:|');
for (const s of summary) {
  console.log(`| ${s.name} | ${s.rps.toFixed(0)} | ${s.all} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${Number.isFinite(s.cpu) ? s.cpu.toFixed(1) : '–'} | ${s.errors} |`);
}
console.log(`\nLabHub / ${chp5.name}: ${ratio.toFixed(2)}× throughput (target ≥ 2.5×: ${ratio >= 2.5 ? 'met' : 'NOT met'}), p99 ${p99ratio.toFixed(2)}× (target ≤ 0.5×: ${p99ratio <= 0.5 ? 'met' : 'NOT met'})`);
