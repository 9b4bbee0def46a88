/** The hub's readiness probe: a direct GET of the server URL, any status below 500 counts (spec §4). */
import { request } from 'node:http';

export function probeHttp(url: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** A sleep that `wake()` can end early (the hub wakes it when the server reports activity). */
export class WakeableSleep {
  private wakeFn: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wakeFn = null;
        resolve();
      }
      this.wakeFn = done;
    });
  }

  wake(): void {
    this.wakeFn?.();
  }
}
