import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../hub/log.js';

describe('logger', () => {
  it('writes pino-format JSON lines with bindings, filters levels and redacts secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-log-'));
    const log = createLogger({ name: 'proxy', level: 'info', logDir: dir, stderr: false });
    log.debug({ a: 1 }, 'hidden');
    log.info({ route: '/user/a/', token: 'abc123', headers: { authorization: 'token xyz', cookie: 'c=1' } }, 'route added');
    log.child({ user: 'alice' }).warn('careful');
    log.error({ err: new Error('boom') }, 'failed');
    expect(log.isLevelEnabled('debug')).toBe(false);
    expect(log.isLevelEnabled('warn')).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const lines = readFileSync(join(dir, 'proxy.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ level: 30, pid: process.pid, name: 'proxy', route: '/user/a/', token: '[redacted]', msg: 'route added' });
    expect(lines[0].headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]' });
    expect(lines[1]).toMatchObject({ level: 40, user: 'alice', msg: 'careful' });
    expect(lines[2].err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(JSON.stringify(lines)).not.toContain('abc123');
    expect(JSON.stringify(lines)).not.toContain('xyz');
  });
});

describe('silentLogger', () => {
  it('writes nothing and reports every level disabled', () => {
    const log = silentLogger();
    expect(log.isLevelEnabled('fatal')).toBe(false);
    log.fatal('nothing');
  });
});
