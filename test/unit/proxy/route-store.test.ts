import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../../hub/log.js';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteStore, ROUTES_FILE } from '../../../hub/proxy/route-store.js';
import { RouteTable } from '../../../hub/proxy/route-table.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'labhub-routes-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function capture(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ name: 'proxy', level: 'info', stderr: false, stream: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { logger, lines };
}

describe('RouteStore', () => {
  it('saves routes (0600) and restores them, activity included', async () => {
    const dir = tempDir();
    const table = new RouteTable();
    const store = new RouteStore(dir, table, capture().logger);
    table.set('/', 'http://127.0.0.1:8081', { hub: true });
    table.set('/user/alice/', 'http://127.0.0.1:9001', { user: 'alice', server_name: '' });
    table.entry('/user/alice/')!.lastActivity = Date.parse('2026-01-02T03:04:05.000Z');
    await store.close();
    const file = join(dir, ROUTES_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = new RouteTable();
    expect(await new RouteStore(dir, again, capture().logger).load()).toBe(2);
    expect(again.get('/user/alice/')).toEqual({ target: 'http://127.0.0.1:9001', data: { user: 'alice', server_name: '' }, last_activity: '2026-01-02T03:04:05.000Z' });
    expect(again.hubEntry()?.target).toBe('http://127.0.0.1:8081');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('coalesces a burst of changes into few writes, and flush() waits for them', async () => {
    const dir = tempDir();
    const table = new RouteTable();
    const store = new RouteStore(dir, table, capture().logger);
    for (let i = 0; i < 100; i++) table.set(`/user/u${i}/`, `http://127.0.0.1:${10000 + i}`);
    await store.flush();
    const saved = JSON.parse(readFileSync(join(dir, ROUTES_FILE), 'utf8')) as { routes: Record<string, unknown> };
    expect(Object.keys(saved.routes)).toHaveLength(100);
  });

  it('moves a damaged file aside and starts empty', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ROUTES_FILE), '{"routes": {"/": ', { mode: 0o600 });
    const { logger, lines } = capture();
    const table = new RouteTable();
    expect(await new RouteStore(dir, table, logger).load()).toBe(0);
    expect(table.size).toBe(0);
    const files = readdirSync(dir);
    expect(files).not.toContain(ROUTES_FILE);
    expect(files.some((f) => f.startsWith(`${ROUTES_FILE}.damaged-`))).toBe(true);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('damaged'))).toBe(true);
  });

  it('skips single invalid routes with a warning', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ROUTES_FILE), JSON.stringify({ version: 1, routes: { '/ok/': { target: 'http://127.0.0.1:1', data: {} }, '/bad/': { target: 'ftp://x', data: {} } } }));
    const table = new RouteTable();
    expect(await new RouteStore(dir, table, capture().logger).load()).toBe(1);
    expect(Object.keys(table.all())).toEqual(['/ok/']);
  });
});
