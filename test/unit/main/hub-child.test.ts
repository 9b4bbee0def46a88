/** The supervisor's child process, with real small programs instead of labhub serve. */
import { describe, expect, it } from 'vitest';
import { HubChild } from '../../../main/hub-child.js';
import { HubSupervisor } from '../../../main/hub-supervisor.js';

function run(command: string[]) {
  let output = '';
  const exits: unknown[][] = [];
  const child = new HubChild(command, process.env, { onOutput: (t) => (output += t), onExit: (...a) => void exits.push(a) });
  return { child, output: () => output, exits };
}

describe('HubChild', () => {
  it('passes stdout and stderr on and reports the exit once', async () => {
    const r = run(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    await r.child.gone;
    expect(r.output()).toContain('out\n');
    expect(r.output()).toContain('err\n');
    expect(r.exits).toEqual([[7, null, undefined]]);
  });

  it('stops with SIGTERM, and with SIGKILL when SIGTERM is ignored', async () => {
    const polite = run(['sleep', '30']);
    expect(await polite.child.stop(2000)).toBe(false);
    expect(polite.exits).toEqual([[null, 'SIGTERM', undefined]]);
    const stubborn = run(['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done']);
    while (!stubborn.output().includes('ready')) await new Promise((r) => setTimeout(r, 20));
    expect(await stubborn.child.stop(200)).toBe(true);
    expect(stubborn.exits).toEqual([[null, 'SIGKILL', undefined]]);
  });

  it('reports a program that cannot start, and the supervisor shows it in a crash loop', async () => {
    const r = run(['/nonexistent/labhub']);
    await r.child.gone;
    expect(r.exits).toHaveLength(1);
    expect(String((r.exits[0]![2] as Error).message)).toMatch(/ENOENT/);
    const sup = new HubSupervisor({
      command: ['/nonexistent/labhub', 'serve'],
      dataDir: '/nonexistent',
      crashPolicy: { initialDelayMs: 10, maxDelayMs: 20, maxCrashes: 2, windowMs: 10_000 },
      systemd: null,
    });
    try {
      await sup.start();
      while (sup.status().state !== 'crash-loop') await new Promise((res) => setTimeout(res, 20));
      expect(sup.logTail().join('\n')).toMatch(/could not start \/nonexistent\/labhub: .*ENOENT/);
    } finally {
      await sup.close();
    }
  });
});
