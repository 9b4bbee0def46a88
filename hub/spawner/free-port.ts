/**
 * Choosing a port for a server on 127.0.0.1. The port is only taken once the server binds it a
 * second or two later, and jupyterhub-singleuser never retries another one (`port_retries=0`), so
 * ports handed out recently are not handed out again while their servers start.
 */
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1: bind port 0, read it, close. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the chosen port'))));
    });
  });
}

/** Hands out free ports, none twice within `memoryMs`. */
export class PortPicker {
  private readonly recent = new Map<number, number>();

  constructor(
    private readonly memoryMs = 120_000,
    private readonly pickPort: () => Promise<number> = pickFreePort,
  ) {}

  async pick(): Promise<number> {
    const now = Date.now();
    for (const [port, at] of this.recent) if (now - at > this.memoryMs) this.recent.delete(port);
    for (let attempt = 0; ; attempt++) {
      const port = await this.pickPort();
      // after many clashes the machine is short of ports; a clash is then better than no start
      if (!this.recent.has(port) || attempt >= 20) {
        this.recent.set(port, now);
        return port;
      }
    }
  }
}
