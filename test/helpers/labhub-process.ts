/**
 * Runs the real `labhub` command (built to dist/) as child processes, on free loopback ports, with
 * a fresh data dir: `labhub serve` (which starts `labhub proxy` detached) or either part alone.
 * Everything it started is stopped by `stop()`, also when a test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync, existsSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LABHUB_MAIN = fileURLToPath(new URL('../../dist/hub/main.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface LabhubOptions {
  /** Extra config merged over the test defaults. */
  config?: Record<string, unknown>;
}

export class LabhubProcess {
  readonly dataDir: string;
  readonly configFile: string;
  publicPort = 0;
  hubPort = 0;
  apiPort = 0;
  serve: ChildProcess | null = null;
  private readonly extra: Record<string, unknown>;
  private outputFile: string;

  constructor(opts: LabhubOptions = {}) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'labhub-it-'));
    this.configFile = join(this.dataDir, 'config.json');
    this.outputFile = join(this.dataDir, 'serve.out');
    this.extra = opts.config ?? {};
  }

  get publicUrl(): string {
    return `http://127.0.0.1:${this.publicPort}`;
  }

  async init(): Promise<this> {
    this.publicPort = await freePort();
    this.hubPort = await freePort();
    this.apiPort = await freePort();
    const extra = this.extra as { hub?: object; proxy?: object; auth?: object; spawner?: object };
    const config = {
      ...this.extra,
      ip: '127.0.0.1',
      port: this.publicPort,
      dataDir: join(this.dataDir, 'data'),
      logLevel: 'debug',
      hub: { ip: '127.0.0.1', port: this.hubPort, ...(extra.hub ?? {}) },
      proxy: { apiIp: '127.0.0.1', apiPort: this.apiPort, ...(extra.proxy ?? {}) },
      auth: { ...(extra.auth ?? {}) },
      spawner: { startTimeoutSeconds: 60, stopGraceSeconds: 3, ...(extra.spawner ?? {}) },
    };
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
    return this;
  }

  get stateFile(): string {
    return join(this.dataDir, 'data', 'state.json');
  }

  state(): any {
    return JSON.parse(readFileSync(this.stateFile, 'utf8'));
  }

  /** Starts `labhub serve` and waits until the hub answers through the proxy. */
  async startServe(): Promise<void> {
    const out = openSync(this.outputFile, 'a');
    this.serve = spawn(process.execPath, [LABHUB_MAIN, 'serve', '--config', this.configFile], {
      stdio: ['ignore', out, out],
      env: { ...process.env, LABHUB_SECRET_CANARY: 'root-only-canary' },
    });
    closeSync(out);
    await this.waitForHub();
  }

  async waitForHub(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.serve && this.serve.exitCode !== null) throw new Error(`labhub serve exited (${this.serve.exitCode}):\n${this.output()}`);
      try {
        // 200 only once the hub has re-adopted servers and fixed the proxy's routes
        const res = await fetch(`${this.publicUrl}/hub/health`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200 && res.headers.get('x-jupyterhub-version')) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`hub did not answer through the proxy within ${timeoutMs} ms:\n${this.output()}`);
  }

  output(): string {
    return existsSync(this.outputFile) ? readFileSync(this.outputFile, 'utf8').split('\n').slice(-60).join('\n') : '';
  }

  proxyPid(): number | null {
    const f = join(this.dataDir, 'data', 'proxy.json');
    if (!existsSync(f)) return null;
    return (JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid;
  }

  /** Kills the `labhub serve` process (the hub) with a signal and waits for it to exit. */
  async killServe(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.serve;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  /** Starts a `labhub proxy` process on its own (e.g. after killing the proxy). */
  startProxy(): ChildProcess {
    const out = openSync(this.outputFile, 'a');
    const child = spawn(process.execPath, [LABHUB_MAIN, 'proxy', '--config', this.configFile], { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    child.unref();
    return child;
  }

  async killProxy(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const pid = this.proxyPid();
    if (!pid) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await this.killServe('SIGTERM').catch(() => undefined);
    await this.killProxy('SIGTERM').catch(() => undefined);
  }
}
