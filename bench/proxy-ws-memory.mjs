#!/usr/bin/env node
// 200 websocket connections held open through LabHub's proxy: proxy RSS before and after, every
// connection still open and echoing after the hold.   node bench/proxy-ws-memory.mjs [--connections 200] [--hold 10]
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { checkPrerequisites, machineNote, repoDir, rssMb } from './lib/harness.mjs';
import { startBackend, startLabhub } from './lib/targets.mjs';

const require = createRequire(`${repoDir}/package.json`);
const WebSocket = require('ws');

const { values } = parseArgs({ options: { connections: { type: 'string', default: '200' }, hold: { type: 'string', default: '10' } } });
const machine = machineNote();
const n = Number(values.connections);
const holdSeconds = Number(values.hold);

const problems = checkPrerequisites({ needWrk: false });
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}

const backend = await startBackend();
const proxy = await startLabhub(backend.url);
const sockets = [];
let result;
try {
  const url = proxy.url.replace(/^http/, 'ws');
  // warm the proxy up a little so the "before" figure is a running proxy, not a cold one
  for (let i = 0; i < 20; i++) {
    const ws = new WebSocket(`${url}/user/warm/api/kernels/${i}/channels`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
  }
  const before = rssMb(proxy.proc.pid);
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`${url}/user/u${i % 50}/api/kernels/${i}/channels`, { perMessageDeflate: false });
    ws.on('close', () => dropped++);
    sockets.push(ws);
  }
  await Promise.all(sockets.map((ws) => new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); })));
  const opened = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  const afterOpen = rssMb(proxy.proc.pid);
  await new Promise((resolve) => setTimeout(resolve, holdSeconds * 1000));
  // every connection must still carry messages
  const echoed = await Promise.all(
    sockets.map((ws, i) => new Promise((resolve) => {
      if (ws.readyState !== WebSocket.OPEN) return resolve(false);
      ws.once('message', (m) => resolve(m.toString() === `ping ${i}`));
      ws.send(`ping ${i}`);
    })),
  );
  const after = rssMb(proxy.proc.pid);
  result = { before, afterOpen, after, opened, echoed: echoed.filter(Boolean).length, dropped };
} finally {
  for (const ws of sockets) ws.terminate();
  await proxy.proc.stop();
  await backend.proc.stop();
}

const growth = result.after - result.before;
const ok = result.opened === n && result.echoed === n && result.dropped === 0;
console.log(`\n### ${n} websockets held open ${holdSeconds} s through LabHub's proxy, ${new Date().toISOString().slice(0, 10)}`);
console.log(`Machine: ${machine}.\n`);
console.log('| proxy RSS before | after opening | after hold + echo | growth | opened | still echoing | dropped |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| ${result.before.toFixed(1)} MB | ${result.afterOpen.toFixed(1)} MB | ${result.after.toFixed(1)} MB | ${growth.toFixed(1)} MB | ${result.opened}/${n} | ${result.echoed}/${n} | ${result.dropped} |`);
console.log(`\nAll open and echoing, none dropped: ${ok ? 'met' : 'NOT met'}; memory growth < 20 MB: ${growth < 20 ? 'met' : 'NOT met'}`);
