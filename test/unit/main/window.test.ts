import { describe, expect, it } from 'vitest';
import { createWindowOptions, hubAdminUrl, nextWindowUrl } from '../../../main/window.js';

const SHELL = 'file:///opt/LabHub/resources/app.asar/resources/shell/index.html';
const HUB = 'http://127.0.0.1:8000';

describe('createWindowOptions', () => {
  it('isolates and sandboxes the page, with the preload and no Node, webviews or insecure content', () => {
    const o = createWindowOptions({ preload: '/app/dist/main/preload.cjs', icon: '/app/resources/icons/256x256.png' });
    expect(o.webPreferences).toMatchObject({
      preload: '/app/dist/main/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
    });
    expect(o.icon).toBe('/app/resources/icons/256x256.png');
    expect(o.show).toBe(false);
    expect(createWindowOptions({ preload: '/p.cjs' })).not.toHaveProperty('icon');
  });
});

describe('nextWindowUrl', () => {
  const status = (state: string, healthy: boolean, hubUrl: string | null = HUB) => ({ state: state as 'running', healthy, hubUrl });

  it('goes to the hub admin page once the hub answers, and stays on hub pages', () => {
    expect(hubAdminUrl(HUB)).toBe(`${HUB}/hub/admin`);
    expect(nextWindowUrl(SHELL, status('running', true), SHELL)).toBe(`${HUB}/hub/admin`);
    expect(nextWindowUrl(SHELL, status('external', true), SHELL)).toBe(`${HUB}/hub/admin`);
    expect(nextWindowUrl('', status('running', true), SHELL)).toBe(`${HUB}/hub/admin`);
    expect(nextWindowUrl(`${HUB}/hub/admin#users`, status('running', true), SHELL)).toBeNull();
    expect(nextWindowUrl(`${HUB}/hub/login`, status('running', true), SHELL)).toBeNull();
  });

  it('shows the shell page while there is no hub, but not for one failed health check', () => {
    expect(nextWindowUrl(`${HUB}/hub/admin`, status('crash-loop', false), SHELL)).toBe(SHELL);
    expect(nextWindowUrl(`${HUB}/hub/admin`, status('restarting', false), SHELL)).toBe(SHELL);
    expect(nextWindowUrl(`${HUB}/hub/admin`, status('running', false), SHELL)).toBeNull();
    expect(nextWindowUrl(SHELL, status('starting', false), SHELL)).toBeNull();
    expect(nextWindowUrl(`${SHELL}#log`, status('stopped', false, null), SHELL)).toBeNull();
    expect(nextWindowUrl(SHELL, status('running', true, null), SHELL)).toBeNull();
  });
});
