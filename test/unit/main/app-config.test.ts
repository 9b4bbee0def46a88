import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAppConfig, SYSTEM_CONFIG } from '../../../main/app-config.js';

const dir = mkdtempSync(join(tmpdir(), 'labhub-appcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths = { appRoot: '/opt/LabHub/resources/app.asar', resourcesRoot: '/opt/LabHub/resources', execPath: '/opt/LabHub/labhub' };

describe('resolveAppConfig', () => {
  it('runs labhub serve with Electron as Node, with the config from LABHUB_CONFIG', () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ dataDir: join(dir, 'data') }));
    const c = resolveAppConfig({ LABHUB_CONFIG: file, PATH: '/usr/bin' }, paths, () => false);
    expect(c).toMatchObject({
      configFile: file,
      dataDir: join(dir, 'data'),
      configProblem: null,
      hubCommand: ['/opt/LabHub/labhub', '/opt/LabHub/resources/app.asar/dist/hub/main.js', 'serve', '--config', file],
      installerScript: '/opt/LabHub/resources/installer/install.sh',
      preload: '/opt/LabHub/resources/app.asar/dist/main/preload.cjs',
      shellPage: '/opt/LabHub/resources/app.asar/resources/shell/index.html',
      trayIcon: '/opt/LabHub/resources/app.asar/resources/icons/32x32.png',
    });
    expect(c.hubEnv).toEqual({ LABHUB_CONFIG: file, PATH: '/usr/bin', ELECTRON_RUN_AS_NODE: '1' });
  });

  it('uses the installed config when there is one, and the installer named by LABHUB_INSTALLER', () => {
    const c = resolveAppConfig({ LABHUB_INSTALLER: '/srv/install.sh', LABHUB_DATA_DIR: join(dir, 'd2') }, paths, (p) => p === SYSTEM_CONFIG);
    expect(c.configFile).toBe(SYSTEM_CONFIG);
    expect(c.installerScript).toBe('/srv/install.sh');
    // /etc/labhub/config.json is absent on this machine: the problem is reported, not thrown
    expect(c.dataDir).toBeNull();
    expect(c.configProblem).toMatch(/cannot read the file/);
  });

  it("falls back to the hub's defaults without a config file", () => {
    const c = resolveAppConfig({ LABHUB_DATA_DIR: join(dir, 'd3') }, paths, () => false);
    expect(c).toMatchObject({ configFile: null, dataDir: join(dir, 'd3'), configProblem: null });
    expect(c.hubCommand).toEqual(['/opt/LabHub/labhub', '/opt/LabHub/resources/app.asar/dist/hub/main.js', 'serve']);
  });
});

describe('resolveAppConfig with LABHUB_NODE', () => {
  it('runs the hub with that Node and without ELECTRON_RUN_AS_NODE', () => {
    const c = resolveAppConfig({ LABHUB_NODE: '/usr/bin/node', LABHUB_DATA_DIR: join(dir, 'd4') }, paths, () => false);
    expect(c.hubCommand[0]).toBe('/usr/bin/node');
    expect(c.hubEnv).not.toHaveProperty('ELECTRON_RUN_AS_NODE');
  });
});
