import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, hubApiUrl, loadConfig, parseConfig } from '../../hub/config.js';

describe('config', () => {
  it('has complete defaults and is frozen', () => {
    const c = parseConfig({ dataDir: '/tmp/x' });
    expect(c.port).toBe(8000);
    expect(c.hub.port).toBe(8081);
    expect(c.logDir).toBe('/tmp/x/logs');
    expect(c.spawner.cmd).toEqual(['jupyterhub-singleuser']);
    expect(c.spawner.path).toBe('/usr/local/bin:/usr/bin:/bin');
    expect(c.auth.pamService).toBe('login');
    expect(Object.isFrozen(c.spawner)).toBe(true);
    expect(hubApiUrl(c)).toBe('http://127.0.0.1:8081/hub/api');
  });

  it('lists every problem with its path', () => {
    try {
      parseConfig({ port: 'eighty', auth: { adminUsers: ['Bad Name'], lockoutSeconds: -1 }, bogus: 1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^port: /m);
      expect(problems).toMatch(/^auth\.adminUsers\.0: must be a Linux user or group name/m);
      expect(problems).toMatch(/^auth\.lockoutSeconds: /m);
      expect(problems).toMatch(/bogus/);
      expect((err as ConfigError).problems.length).toBeGreaterThanOrEqual(4);
    }
  });

  it('takes argv over env over file over defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 9000, ip: '127.0.0.2', dataDir: '/srv/file', auth: { lockoutSeconds: 60 } }));
    const fromFile = loadConfig({ config: file }, {});
    expect([fromFile.port, fromFile.ip, fromFile.dataDir, fromFile.auth.lockoutSeconds]).toEqual([9000, '127.0.0.2', '/srv/file', 60]);
    const fromEnv = loadConfig({ config: file }, { LABHUB_PORT: '9100', LABHUB_DATA_DIR: '/srv/env' });
    expect([fromEnv.port, fromEnv.dataDir]).toEqual([9100, '/srv/env']);
    const fromArgv = loadConfig({ config: file, port: 9200, dataDir: '/srv/argv' }, { LABHUB_PORT: '9100', LABHUB_DATA_DIR: '/srv/env' });
    expect([fromArgv.port, fromArgv.dataDir, fromArgv.ip]).toEqual([9200, '/srv/argv', '127.0.0.2']);
  });

  it('reports an unreadable or malformed file clearly', () => {
    expect(() => loadConfig({ config: '/nonexistent/labhub.json' }, {})).toThrow(/cannot read the file/);
    const dir = mkdtempSync(join(tmpdir(), 'labhub-cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"port": 80,');
    expect(() => loadConfig({ config: file }, {})).toThrow(/not valid JSON/);
    expect(() => loadConfig({}, { LABHUB_PORT: 'abc' })).toThrow(/LABHUB_PORT/);
  });
});

describe('resources/default-config.json', () => {
  it('is valid and equals the schema defaults for a root install', () => {
    const file = new URL('../../resources/default-config.json', import.meta.url).pathname;
    const fromFile = loadConfig({ config: file }, {});
    const defaults = parseConfig({ dataDir: '/var/lib/labhub', logDir: '/var/log/labhub' });
    expect(fromFile).toEqual(defaults);
  });
});
