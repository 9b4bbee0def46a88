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

/** A sleep that `wake()` can end early; `sleep` resolves true when it was woken. */
export class WakeableSleep {
  private wakeFn: (() => void) | null = null;

  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => finish(false), ms);
      const finish = (woken: boolean) => {
        clearTimeout(t);
        this.wakeFn = null;
        resolve(woken);
      };
      this.wakeFn = () => finish(true);
    });
  }

  wake(): void {
    this.wakeFn?.();
  }
}
