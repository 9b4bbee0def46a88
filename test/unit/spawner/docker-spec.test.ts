/**
 * The Docker spawner's pure parts: what a container is created with (every security decision),
 * the passwd/group files for inside it, the log stream demultiplexer, the image build commands
 * and the mapping of dockerode's errors to the documented messages.
 */
import { describe, expect, it } from 'vitest';
import type { Account } from '../../../hub/auth/accounts.js';
import { HubError } from '../../../hub/errors.js';
import { containerSpec, serviceUrl } from '../../../hub/spawner/docker/container-spec.js';
import { identityFileContents } from '../../../hub/spawner/docker/identity-files.js';
import { isDaemonUnreachable, isPortInUse, spawnError } from '../../../hub/spawner/docker/docker-errors.js';
import { buildCommands, hostAptOptions, loadRecipe, mirrorLines } from '../../../hub/spawner/docker/image.js';
import { demuxLogs } from '../../../hub/spawner/docker/logs.js';

const alice: Account = {
  name: 'alice', uid: 1001, gid: 1001, groups: [1001, 2000, 27], groupNames: ['alice', 'cs101', 'sudo'],
  home: '/home/alice', shell: '/bin/bash', locked: false, expired: false,
};

const base = {
  account: alice, image: 'labhub/singleuser:latest', network: 'host', port: 41234, argv: ['jupyterhub-singleuser'],
  env: { JUPYTERHUB_USER: 'alice', PATH: '/usr/bin:/bin' }, volumes: [{ source: '/srv/data', target: '/srv/data', readOnly: true }],
  limits: { memory: 2 * 1024 ** 3, cpus: 1.5 }, pidsLimit: 512, stopGraceSeconds: 10, allowRoot: false, hubId: 'h1',
};

describe('containerSpec', () => {
  it('runs as the student with their groups, mounts only their home (and the read-only extras), locks the container down', () => {
    const s = containerSpec(base);
    expect(s).toMatchObject({ name: 'labhub-alice', User: '1001:1001', WorkingDir: '/home/alice', StopSignal: 'SIGINT', StopTimeout: 10 });
    expect(s.Labels).toEqual({ 'org.labhub.managed': 'true', 'org.labhub.user': 'alice', 'org.labhub.hub': 'h1' });
    expect(s.Env).toEqual(['JUPYTERHUB_USER=alice', 'PATH=/usr/bin:/bin']);
    const h = s.HostConfig!;
    expect(h.GroupAdd).toEqual(['2000', '27']);
    expect(h.Mounts).toEqual([
      { Type: 'bind', Source: '/home/alice', Target: '/home/alice', ReadOnly: false },
      { Type: 'bind', Source: '/srv/data', Target: '/srv/data', ReadOnly: true },
    ]);
    expect(h).toMatchObject({ Memory: 2 * 1024 ** 3, MemorySwap: 2 * 1024 ** 3, NanoCpus: 1_500_000_000, PidsLimit: 512, Init: true });
    expect(Number.isInteger(h.NanoCpus)).toBe(true);
    expect(h.CapDrop).toEqual(['ALL']);
    expect(h.SecurityOpt).toEqual(['no-new-privileges']);
    expect(h.NetworkMode).toBe('host');
    expect(h.PortBindings).toBeUndefined();
    expect(h.Binds).toBeUndefined();
    expect(h.CgroupParent).toBeUndefined();
    expect(containerSpec({ ...base, cgroupParent: '/' }).HostConfig!.CgroupParent).toBe('/');
  });

  it('on a bridge network publishes the port on 127.0.0.1 only, as a string, and exposes it', () => {
    const s = containerSpec({ ...base, network: 'bridge' });
    expect(s.ExposedPorts).toEqual({ '8888/tcp': {} });
    expect(s.HostConfig!.PortBindings).toEqual({ '8888/tcp': [{ HostIp: '127.0.0.1', HostPort: '41234' }] });
    expect(serviceUrl('bridge', 41234, '/user/alice/')).toBe('http://0.0.0.0:8888/user/alice/');
    expect(serviceUrl('host', 41234, '/user/alice/')).toBe('http://127.0.0.1:41234/user/alice/');
  });

  it('no limits means none; allowRoot keeps capabilities', () => {
    const s = containerSpec({ ...base, limits: { memory: 0, cpus: 0 }, pidsLimit: 0, allowRoot: true });
    expect(s.HostConfig).toMatchObject({ Memory: 0, MemorySwap: 0, NanoCpus: 0, PidsLimit: 0, CapDrop: [], SecurityOpt: [] });
  });

  it('identity files hold root, nobody and the student with their groups', () => {
    const f = identityFileContents(alice);
    expect(f.passwd).toContain('alice:x:1001:1001::/home/alice:/bin/bash\n');
    expect(f.group).toContain('alice:x:1001:\n');
    expect(f.group).toContain('cs101:x:2000:alice\n');
    expect(f.group).toContain('sudo:x:27:alice\n');
  });
});

describe('docker log stream', () => {
  it('joins stdout and stderr frames', () => {
    const frame = (type: number, text: string) => {
      const payload = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = type;
      h.writeUInt32BE(payload.length, 4);
      return Buffer.concat([h, payload]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err 2\n')]))).toBe('out 1\nerr 2\n');
    expect(demuxLogs(Buffer.from('plain tty text\n'))).toBe('plain tty text\n');
  });
});

describe('image recipe and build commands', () => {
  it('builds with mmdebstrap | docker import, the recipe hash as a label, the host mirror and apt options', () => {
    const recipe = loadRecipe();
    expect(recipe.packages).toEqual(expect.arrayContaining(['jupyterhub', 'python3-notebook', 'python3-ipykernel']));
    expect(recipe.hash).toMatch(/^[0-9a-f]{64}$/);
    const sources = 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n';
    const mirrors = mirrorLines('bookworm', sources);
    expect(mirrors).toEqual([
      'deb http://mirror.example/debian bookworm main',
      'deb http://mirror.example/debian bookworm-updates main',
      'deb http://mirror.example/debian-security bookworm-security main',
    ]);
    const apt = hostAptOptions('Acquire::http::Proxy "http://proxy:3128";\nAcquire::Check-Valid-Until "false";\nAPT::Other "x";\n');
    expect(apt).toEqual(['Acquire::http::Proxy "http://proxy:3128"', 'Acquire::Check-Valid-Until "false"']);
    const { mmdebstrap, dockerImport } = buildCommands(recipe, { mirrors, aptOptions: apt });
    expect(mmdebstrap.slice(0, 4)).toEqual(['mmdebstrap', '--quiet', `--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`]);
    expect(mmdebstrap).toContain('--aptopt=Acquire::http::Proxy "http://proxy:3128"');
    expect(mmdebstrap.slice(-4)).toEqual(['-', ...mirrors]);
    expect(dockerImport).toContain(`LABEL org.labhub.recipe=${recipe.hash}`);
    expect(dockerImport).toContain('ENV PATH=/usr/local/bin:/usr/bin:/bin');
    expect(dockerImport.slice(-2)).toEqual(['-', recipe.image]);
  });
});

describe('docker errors', () => {
  it('tells a daemon that does not answer from one that refuses, and names the port clash', () => {
    expect(isDaemonUnreachable(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }))).toBe(true);
    expect(isDaemonUnreachable(Object.assign(new Error('(HTTP code 500) server error'), { statusCode: 500 }))).toBe(false);
    const clash = Object.assign(new Error('x'), { statusCode: 500, json: { message: 'driver failed: Bind for 127.0.0.1:41234 failed: port is already allocated' } });
    expect(isPortInUse(clash)).toBe(true);
    const down = spawnError('Could not create your container', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), '/run/docker.sock');
    expect(down).toBeInstanceOf(HubError);
    expect(down.code).toBe('HUB_ERR_DOCKER_UNAVAILABLE');
    const other = spawnError('Could not create your container', Object.assign(new Error('x'), { statusCode: 409, json: { message: 'Conflict. The container name is in use' } }), '/run/docker.sock');
    expect(other.message).toBe('Could not create your container: Conflict. The container name is in use');
  });
});
