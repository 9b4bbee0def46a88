import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinCgroupsArgv, systemdRunArgv } from '../../../hub/quota/cgroup-values.js';
import { cgroupProcsOf, entryPointProblem } from '../../../hub/spawner/launcher-eligibility.js';

const command = ['/usr/bin/setpriv', '--reuid', '1001', '--regid', '1001', '--init-groups', '--', '/usr/bin/jupyterhub-singleuser'];

describe('cgroupProcsOf', () => {
  it('reads the cgroup.procs files from the sh wrapper, none from a bare command', () => {
    const procs = ['/sys/fs/cgroup/memory/labhub/alice/cgroup.procs', '/sys/fs/cgroup/cpu/labhub/alice/cgroup.procs'];
    expect(cgroupProcsOf({ argv: joinCgroupsArgv(procs, command), cgroup: null, limits: null }, command)).toEqual({ procs });
    expect(cgroupProcsOf({ argv: command, cgroup: null, limits: null }, command)).toEqual({ procs: [] });
  });

  it('refuses a systemd scope and anything it does not know', () => {
    const scope = systemdRunArgv('/usr/bin/systemd-run', 'alice', { memory: 1 << 30, cpus: 1 }, command);
    expect(cgroupProcsOf({ argv: scope, cgroup: null, limits: null }, command)).toEqual({ problem: 'memory and CPU limits are applied through a systemd scope' });
    expect(cgroupProcsOf({ argv: ['/usr/bin/env', ...command], cgroup: null, limits: null }, command)).toMatchObject({ problem: expect.stringContaining('wrapper') });
    // a wrapper around some other command is not this spawn's
    const other = joinCgroupsArgv(['/x/cgroup.procs'], ['/bin/true']);
    expect(cgroupProcsOf({ argv: other, cgroup: null, limits: null }, command)).toHaveProperty('problem');
  });
});

describe('entryPointProblem', () => {
  it('accepts Debian’s jupyterhub-singleuser for /usr/bin/python3', async () => {
    expect(await entryPointProblem('/usr/bin/jupyterhub-singleuser', '/usr/bin/python3')).toBeNull();
  });

  it('names the reason for anything else', async () => {
    expect(await entryPointProblem('/bin/sh', '/usr/bin/python3')).toBe('spawner.cmd runs /bin/sh, not the jupyterhub-singleuser entry point');
    const dir = mkdtempSync(join(tmpdir(), 'labhub-entry-'));
    const script = join(dir, 'jupyterhub-singleuser');
    writeFileSync(script, '#!/opt/other/python3\nprint(1)\n');
    chmodSync(script, 0o755);
    expect(await entryPointProblem(script, '/usr/bin/python3')).toMatch(/runs \/opt\/other\/python3, not the launcher's \/usr\/bin\/python3|cannot read/);
    chmodSync(script, 0o777);
    expect(await entryPointProblem(script, '/usr/bin/python3')).toBe(`${script} may be changed by users other than root`);
  });
});
