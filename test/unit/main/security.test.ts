import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAllowedNavigation, isHubOrigin, isPermissionAllowed, isTrustedSender, SHELL_CSP, windowOpenDecision } from '../../../main/security.js';

const allow = { origins: ['http://127.0.0.1:8000'], files: ['file:///opt/LabHub/resources/shell/index.html'] };

describe('navigation allow-list', () => {
  it("allows the hub's own pages and the shell page", () => {
    for (const url of [
      'http://127.0.0.1:8000/hub/admin',
      'http://127.0.0.1:8000/hub/login?next=%2Fhub%2Fadmin',
      'http://127.0.0.1:8000/hub',
      'file:///opt/LabHub/resources/shell/index.html',
      'file:///opt/LabHub/resources/shell/index.html#log',
    ]) {
      expect(isAllowedNavigation(url, allow), url).toBe(true);
    }
  });

  it("refuses students' servers, other origins, ports, schemes and files", () => {
    for (const url of [
      'http://127.0.0.1:8000/user/s01/lab',
      'http://127.0.0.1:8000/',
      'http://127.0.0.1:8000/hubx/admin',
      'http://127.0.0.1:8001/hub/admin',
      'https://127.0.0.1:8000/hub/admin',
      'http://localhost:8000/hub/admin',
      'http://evil.example/hub/admin',
      'http://user:pw@127.0.0.1:8000/hub/admin',
      'file:///etc/passwd',
      'file:///opt/LabHub/resources/shell/other.html',
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'devtools://devtools/bundled/inspector.html',
      'not a url',
      '',
    ]) {
      expect(isAllowedNavigation(url, allow), url).toBe(false);
    }
    expect(isAllowedNavigation('http://127.0.0.1:8000/hub/admin', { origins: [], files: [] })).toBe(false);
  });

  it('trusts IPC only from the same pages', () => {
    expect(isTrustedSender('http://127.0.0.1:8000/hub/admin', allow)).toBe(true);
    expect(isTrustedSender('http://127.0.0.1:8000/user/s01/notebooks/x.ipynb', allow)).toBe(false);
    expect(isTrustedSender('about:blank', allow)).toBe(false);
  });
});

describe('new windows', () => {
  it("never opens one; hub-origin links (students' servers too) go to the system browser", () => {
    expect(windowOpenDecision('http://127.0.0.1:8000/user/s01/lab', allow)).toEqual({ action: 'deny', openExternal: 'http://127.0.0.1:8000/user/s01/lab' });
    expect(windowOpenDecision('http://127.0.0.1:8000/hub/admin', allow)).toEqual({ action: 'deny', openExternal: 'http://127.0.0.1:8000/hub/admin' });
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'mailto:a@b', 'smb://server/share']) {
      expect(windowOpenDecision(url, allow), url).toEqual({ action: 'deny', openExternal: null });
    }
    expect(isHubOrigin('http://127.0.0.1:8000/anything', allow)).toBe(true);
  });
});

describe('permissions and CSP', () => {
  it('denies every permission', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'hid', 'serial', 'unknown']) {
      expect(isPermissionAllowed(p)).toBe(false);
    }
  });

  it('the shell page carries exactly SHELL_CSP and loads nothing inline', () => {
    const html = readFileSync(new URL('../../../resources/shell/index.html', import.meta.url), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
    expect(meta?.[1]).toBe(SHELL_CSP);
    expect(SHELL_CSP).toContain("default-src 'none'");
    expect(SHELL_CSP).not.toContain('unsafe');
    expect(html).not.toMatch(/<script>|\son[a-z]+=|\sstyle=/);
  });
});
