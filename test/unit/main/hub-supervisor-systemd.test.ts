/**
 * The supervisor's systemd mode with a FAKE SystemdControl: systemd is not PID 1 on this machine,
 * so systemctl cannot answer here. The child mode runs a real hub in test/integration/supervisor.test.ts.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HubSupervisor } from '../../../main/hub-supervisor.js';
import type { SystemdControl, UnitState } from '../../../main/systemd.js';

function fakeSystemd(state: UnitState | null): SystemdControl & { restart: ReturnType<typeof vi.fn> } {
  return { booted: () => true, show: vi.fn(async () => state), restart: vi.fn(async () => undefined) };
}

async function healthServer(status: number): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(status).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('HubSupervisor systemd mode (fake systemctl: systemd is not PID 1 here)', () => {
  const toClose: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const c of toClose.splice(0)) await c.close();
  });

  it('watches an installed labhub.service and restarts it through systemctl, never spawning a hub', async () => {
    const { server, url } = await healthServer(200);
    toClose.push(server);
    const systemd = fakeSystemd({ loadState: 'loaded', activeState: 'active', subState: 'running', mainPid: 4321 });
    const sup = new HubSupervisor({ command: ['/nonexistent/labhub'], dataDir: '/nonexistent', hubUrl: url, healthIntervalMs: 50, systemd });
    toClose.push(sup);
    await sup.start();
    await vi.waitFor(() => expect(sup.status()).toMatchObject({ state: 'external', mode: 'systemd', healthy: true, pid: 4321 }));
    await sup.restart();
    expect(systemd.restart).toHaveBeenCalledWith('labhub.service');
    expect(sup.logTail().join('\n')).toContain('systemctl restart labhub.service');
    expect(sup.logTail().join('\n')).not.toContain('starting /nonexistent/labhub');
    await sup.close();
    expect(sup.status().state).toBe('stopped');
  });

  it('reports a failed unit', async () => {
    const systemd = fakeSystemd({ loadState: 'loaded', activeState: 'failed', subState: 'failed', mainPid: null });
    const sup = new HubSupervisor({ command: ['x'], dataDir: '/nonexistent', hubUrl: 'http://127.0.0.1:9', healthIntervalMs: 50, systemd });
    toClose.push(sup);
    await sup.start();
    await vi.waitFor(() => expect(sup.status()).toMatchObject({ state: 'external', healthy: false, message: 'labhub.service is failed (failed)' }));
  });

  it('without the unit installed, runs the hub itself', async () => {
    const systemd = fakeSystemd({ loadState: 'not-found', activeState: 'inactive', subState: 'dead', mainPid: null });
    const sup = new HubSupervisor({ command: ['/bin/sleep', '30'], dataDir: '/nonexistent', hubUrl: 'http://127.0.0.1:9', healthIntervalMs: 50, systemd });
    toClose.push(sup);
    await sup.start();
    expect(sup.status()).toMatchObject({ state: 'starting', mode: 'child', healthy: false });
    expect(sup.status().pid).toBeGreaterThan(0);
  });
});
