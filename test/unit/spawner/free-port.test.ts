import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortPicker, pickFreePort } from '../../../hub/spawner/free-port.js';

describe('pickFreePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await pickFreePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((r) => server.close(r));
  });
});

describe('PortPicker', () => {
  it('does not hand out a recent port again', async () => {
    const offered = [5000, 5000, 5000, 5001];
    const picker = new PortPicker(60_000, async () => offered.shift() as number);
    expect(await picker.pick()).toBe(5000);
    expect(await picker.pick()).toBe(5001);
  });

  it('forgets ports after the memory period', async () => {
    const picker = new PortPicker(0, async () => 5000);
    expect(await picker.pick()).toBe(5000);
    await new Promise((r) => setTimeout(r, 5));
    expect(await picker.pick()).toBe(5000);
  });
});
