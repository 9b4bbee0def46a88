/**
 * The hub supervisor with a real `labhub serve` child (dist/ must be built: `npm run build`) on
 * free ports with a fresh data dir: readiness through /hub/health, restart after kill -9, an
 * already-running hub watched rather than duplicated, the admin token and status for the tray,
 * and a crash loop that stops instead of restarting forever. systemd mode cannot run here
 * (systemd is not PID 1): see test/unit/main/hub-supervisor-systemd.test.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdminToken } from '../../main/admin-token.js';
import { fetchHubSummary } from '../../main/hub-client.js';
import { HubSupervisor } from '../../main/hub-supervisor.js';
import type { HubStatus } from '../../main/ipc/contract.js';
import { LABHUB_MAIN, LabhubProcess } from '../helpers/labhub-process.js';

async function waitForStatus(sup: HubSupervisor, what: string, pred: (s: HubStatus) => boolean, ms = 30_000): Promise<HubStatus> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const s = sup.status();
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`supervisor: no "${what}" within ${ms} ms; status ${JSON.stringify(sup.status())}\n${sup.logTail(40).join('\n')}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('HubSupervisor with a real labhub serve', () => {
  let lab: LabhubProcess;
  let sup: HubSupervisor;
  const opened: HubSupervisor[] = [];
  const seen: HubStatus['state'][] = [];

  beforeAll(async () => {
    lab = await new LabhubProcess().init();
    sup = new HubSupervisor({
      command: [process.execPath, LABHUB_MAIN, 'serve', '--config', lab.configFile],
      dataDir: join(lab.dataDir, 'data'),
      healthIntervalMs: 100,
      crashPolicy: { initialDelayMs: 200, maxDelayMs: 1000, maxCrashes: 4, windowMs: 60_000 },
      stopGraceMs: 5000,
      systemd: null,
    });
    opened.push(sup);
    sup.onStatus((s) => {
      if (seen.at(-1) !== s.state) seen.push(s.state);
    });
  });

  afterAll(async () => {
    for (const s of opened) await s.close();
    // `labhub serve` leaves a proxy it did not start itself (the second serve reused the first's)
    await lab.stop();
    rmSync(lab.dataDir, { recursive: true, force: true });
  });

  it('starts labhub serve and reports running once /hub/health answers 200', async () => {
    await sup.start();
    const s = await waitForStatus(sup, 'running', (x) => x.state === 'running' && x.healthy);
    expect(s).toMatchObject({ mode: 'child', hubUrl: lab.publicUrl, restarts: 0, exits: [], message: null });
    expect(s.pid).toBeGreaterThan(0);
    expect(seen).toEqual(['starting', 'running']);
    expect((await fetch(`${lab.publicUrl}/hub/health`)).status).toBe(200);
    expect(sup.logTail().join('\n')).toContain('[labhub-app] starting');
  });

  it('reads the admin token the hub wrote and fetches the status for the tray', async () => {
    const creds = readAdminToken(join(lab.dataDir, 'data'));
    const summary = await fetchHubSummary(creds);
    expect(summary.version).toMatch(/^\d+\.\d+/);
    expect(summary.users).toEqual({ total: expect.any(Number), online: expect.any(Number) });
    expect(summary.servers).toEqual({ running: 0, starting: 0, queued: 0 });
  });

  it('watches a hub that is already running instead of starting a second one', async () => {
    const other = new HubSupervisor({ command: ['false'], dataDir: join(lab.dataDir, 'data'), healthIntervalMs: 100, systemd: null });
    opened.push(other);
    await other.start();
    expect(other.status()).toMatchObject({ state: 'external', mode: 'external', healthy: true, hubUrl: lab.publicUrl, pid: null });
    await expect(other.restart()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await other.close();
    expect(sup.status()).toMatchObject({ state: 'running', healthy: true }); // left alone
  });

  it('restarts the hub after kill -9 and sees it ready again', async () => {
    const before = sup.status().pid!;
    process.kill(before, 'SIGKILL');
    await waitForStatus(sup, 'restarting', (x) => x.state === 'restarting');
    const s = await waitForStatus(sup, 'running again', (x) => x.state === 'running' && x.healthy);
    expect(s.pid).not.toBe(before);
    expect(s.restarts).toBe(1);
    expect(s.exits).toEqual([{ code: null, signal: 'SIGKILL', at: expect.any(String) }]);
    expect(sup.logTail().join('\n')).toContain('[labhub-app] hub was killed by SIGKILL');
    expect((await fetch(`${lab.publicUrl}/hub/health`)).status).toBe(200);
  });

  it('restarts by hand and stops the child on close', async () => {
    const before = sup.status().pid!;
    await sup.restart();
    const s = await waitForStatus(sup, 'running after restart', (x) => x.state === 'running' && x.healthy);
    expect(s.pid).not.toBe(before);
    expect(s.restarts).toBe(0); // a restart by hand is not a crash
    expect(alive(before)).toBe(false);
    await sup.close();
    expect(sup.status()).toMatchObject({ state: 'stopped', pid: null });
    expect(alive(s.pid!)).toBe(false);
  });
});

describe('HubSupervisor crash loop (labhub serve with a missing config exits 2)', () => {
  let sup: HubSupervisor | null = null;
  afterAll(async () => {
    await sup?.close();
  });

  it('gives up after K quick crashes, keeps the exit codes and the error in the log tail', async () => {
    sup = new HubSupervisor({
      command: [process.execPath, LABHUB_MAIN, 'serve', '--config', '/nonexistent/labhub.json'],
      dataDir: '/nonexistent/labhub-data',
      healthIntervalMs: 100,
      crashPolicy: { initialDelayMs: 50, maxDelayMs: 200, maxCrashes: 3, windowMs: 60_000 },
      systemd: null,
    });
    await sup.start();
    const s = await waitForStatus(sup, 'crash-loop', (x) => x.state === 'crash-loop');
    expect(s.exits.map((e) => e.code)).toEqual([2, 2, 2]);
    expect(s.restarts).toBe(2);
    expect(s.pid).toBeNull();
    expect(s.message).toMatch(/stopped 3 times within 60 s \(2, 2, 2\); not restarting/);
    expect(s.message).toContain('cannot read the file');
    expect(sup.logTail().join('\n')).toContain("labhub: invalid configuration (/nonexistent/labhub.json)");
    // no infinite loop: nothing more happens
    await new Promise((r) => setTimeout(r, 1000));
    expect(sup.status()).toMatchObject({ state: 'crash-loop', exits: s.exits, pid: null });
  });
});
