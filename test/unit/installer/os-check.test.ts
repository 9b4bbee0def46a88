/** installer/lib/os.sh: which systems install.sh accepts, read from an os-release(5) file. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const OS_SH = fileURLToPath(new URL('../../../installer/lib/os.sh', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'labhub-os-'));

function check(osRelease: string | null): { ok: boolean; out: string } {
  const file = join(tmp, 'os-release');
  if (osRelease === null) rmSync(file, { force: true });
  else writeFileSync(file, osRelease);
  try {
    return { ok: true, out: execFileSync('bash', ['-c', `. ${OS_SH}; labhub_os_check ${file}`], { encoding: 'utf8' }).trim() };
  } catch (err) {
    return { ok: false, out: String((err as { stdout: string }).stdout).trim() };
  }
}

describe('labhub_os_check', () => {
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('accepts Debian 12, Ubuntu 22.04 and 24.04 (quoted or not)', () => {
    expect(check('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')).toEqual({ ok: true, out: 'ok debian 12' });
    expect(check('NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n')).toEqual({ ok: true, out: 'ok ubuntu 22.04' });
    expect(check("ID='ubuntu'\nVERSION_ID=24.04\n")).toEqual({ ok: true, out: 'ok ubuntu 24.04' });
  });

  it('names what it found and what is supported otherwise', () => {
    expect(check('PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_ID="11"\n')).toEqual({
      ok: false,
      out: 'Debian GNU/Linux 11 (bullseye) is not supported: LabHub installs on Debian 12, Ubuntu 22.04, Ubuntu 24.04',
    });
    expect(check('ID=fedora\nVERSION_ID=40\n').out).toBe('fedora 40 is not supported: LabHub installs on Debian 12, Ubuntu 22.04, Ubuntu 24.04');
    // a derivative that says it is like Debian is still not Debian 12
    expect(check('PRETTY_NAME="Linux Mint 21"\nID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="21"\n').ok).toBe(false);
    expect(check(null)).toEqual({ ok: false, out: `cannot read ${join(tmp, 'os-release')}, so this system cannot be identified` });
  });

  it('never executes the file', () => {
    const r = check(`ID=debian\nVERSION_ID=12\n$(touch ${tmp}/pwned)\n\`touch ${tmp}/pwned\`\n`);
    expect(r.ok).toBe(true);
    expect(() => execFileSync('test', ['-e', join(tmp, 'pwned')])).toThrow();
  });
});
