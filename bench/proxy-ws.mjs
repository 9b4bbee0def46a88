#!/usr/bin/env node
// Websocket echo latency and rate, side by side: 10,000 sequential messages (send, wait for the
// echo, send the next) over one connection, direct and through each proxy; rounds interleaved,
// median reported.   node bench/proxy-ws.mjs [--messages 10000] [--rounds 7]
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { checkPrerequisites, cpuSeconds, machineNote, median, percentile, repoDir } from './lib/harness.mjs';
import { chp5Version, ensureChps, startBackend, startChp4, startChp5, startLabhub } from './lib/targets.mjs';

const require = createRequire(`${repoDir}/package.json`);
const WebSocket = require('ws');

const { values } = parseArgs({ options: { messages: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '7' } } });
const machine = machineNote();
const messages = Number(values.messages);
const rounds = Number(values.rounds);

const problems = [...checkPrerequisites({ needWrk: false }), ...ensureChps()];
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}

/** Opens a websocket, runs `n` sequential echoes, returns per-message RTTs in ms. */
async function echoRun(url, n) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const payload = Buffer.from('{"header":{"msg_type":"execute_request"},"content":{"code":"1+1"}}');
  const rtts = new Float64Array(n);
  const started = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    let i = 0;
    let t0 = 0n;
    ws.on('message', () => {
      rtts[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      i++;
      if (i === n) return resolve();
      t0 = process.hrtime.bigint();
      ws.send(payload);
    });
    ws.once('error', reject);
    t0 = process.hrtime.bigint();
    ws.send(payload);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  ws.close();
  await new Promise((resolve) => ws.once('close', resolve));
  const sorted = Array.from(rtts).sort((a, b) => a - b);
  return { rate: n / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const backend = await startBackend();
const wsUrl = (http) => http.replace(/^http/, 'ws') + '/user/bench/api/kernels/k/channels';
const targets = [{ name: 'direct (no proxy)', url: backend.url }];
const started = [];
try {
  for (const start of [startLabhub, startChp4, startChp5]) {
    const t = await start(backend.url);
    started.push(t);
    targets.push(t);
  }
  targets[3].name = `CHP ${chp5Version()} (npm)`;
  for (const t of targets) {
    await echoRun(wsUrl(t.url), 1000); // warm-up
    t.runs = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const pid = t.proc?.pid;
      const cpu0 = pid ? cpuSeconds(pid) : 0;
      const res = await echoRun(wsUrl(t.url), messages);
      res.cpuUs = pid ? ((cpuSeconds(pid) - cpu0) / messages) * 1e6 : NaN;
      t.runs.push(res);
      console.error(`round ${r + 1} ${t.name}: ${res.rate.toFixed(0)} msg/s, RTT p50 ${res.p50.toFixed(3)} ms, p99 ${res.p99.toFixed(3)} ms`);
    }
  }
} finally {
  for (const t of started) await t.proc.stop();
  await backend.proc.stop();
}

const s = targets.map((t) => ({
  name: t.name,
  rate: median(t.runs.map((x) => x.rate)),
  p50: median(t.runs.map((x) => x.p50)),
  p99: median(t.runs.map((x) => x.p99)),
  cpu: median(t.runs.map((x) => x.cpuUs)),
  all: t.runs.map((x) => Math.round(x.rate)).join(' / '),
}));
const [direct, labhub, chp4, chp5] = s;
const bestChp = Math.max(chp4.rate, chp5.rate);
const rateRatio = labhub.rate / bestChp;
const extra = labhub.p50 - direct.p50;
console.log(`\n### Websocket echo: ${messages} sequential messages, ${rounds} interleaved rounds (median), ${new Date().toISOString().slice(0, 10)}`);
console.log(`Machine: ${machine}.\n`);
console.log('| target | messages/s (median) | every round | RTT p50 ms | RTT p99 ms | proxy CPU µs/message |');
console.log('|---|---:|---|---:|---:|---:|');
for (const x of s) console.log(`| ${x.name} | ${x.rate.toFixed(0)} | ${x.all} | ${x.p50.toFixed(3)} | ${x.p99.toFixed(3)} | ${Number.isFinite(x.cpu) ? x.cpu.toFixed(1) : '–'} |`);
console.log(`\nLabHub / best CHP: ${rateRatio.toFixed(2)}× messages/s (target ≥ 1.2×: ${rateRatio >= 1.2 ? 'met' : 'NOT met'}); RTT p50 ${extra >= 0 ? '+' : ''}${extra.toFixed(3)} ms over direct (target ≤ 0.15 ms: ${extra <= 0.15 ? 'met' : 'NOT met'})`);
