/**
 * The Electron side of the admin GUI, for a page in plain Chromium (the Electron binary cannot be
 * downloaded here). Everything is real except the transport: the preload's own `createBridge`
 * (main/ipc/bridge.ts, bundled with esbuild) becomes `window.labhub` over a fake ipcRenderer
 * whose messages travel through playwright bindings to the real `handle()` wrappers, a real
 * InstallerRunner (running test/fixtures/installer-demo.sh in a pty) and a real TerminalManager
 * (`runuser -l` in a pty). Only the hub supervisor is stood in for by a fixed status, since the
 * test's hub is run by the test.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { InstallerRunner } from '../../main/installer-runner.js';
import { EVENTS, type EventChannel, type EventMap, type HubStatus, type InvokeChannel } from '../../main/ipc/contract.js';
import { handle } from '../../main/ipc/handle.js';
import { TerminalManager } from '../../main/terminal.js';

const BRIDGE = fileURLToPath(new URL('../../main/ipc/bridge.ts', import.meta.url));
export const INSTALLER_DEMO = fileURLToPath(new URL('../fixtures/installer-demo.sh', import.meta.url));

/** The preload's bridge as a script for `addInitScript`, over a binding-backed ipcRenderer. */
async function bridgeScript(): Promise<string> {
  const out = await build({
    stdin: {
      contents: `
        import { createBridge } from ${JSON.stringify(BRIDGE)};
        const listeners = new Map();
        window.__labhubDeliver = (channel, payload) => {
          for (const l of listeners.get(channel) ?? []) l({}, payload);
        };
        const ipc = {
          invoke: (channel, ...args) => window.__labhubInvoke(channel, args),
          on: (channel, l) => listeners.set(channel, [...(listeners.get(channel) ?? []), l]),
          removeListener: (channel, l) => listeners.set(channel, (listeners.get(channel) ?? []).filter((x) => x !== l)),
        };
        window.labhub = createBridge(ipc);
      `,
      resolveDir: process.cwd(),
      loader: 'js',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export interface DesktopStandInOptions {
  /** Origin whose pages may use the contract (the test hub's public URL). */
  origin: string;
  status: HubStatus;
  logLines: string[];
}

export class DesktopStandIn {
  readonly installer = new InstallerRunner({ script: INSTALLER_DEMO, root: true, cancelGraceMs: 1000 });
  readonly terminals = new TerminalManager({ root: true });
  /** Every channel call the page made, in order (for assertions). */
  readonly calls: { channel: string; args: unknown[] }[] = [];
  restarts = 0;
  private page: Page | null = null;

  constructor(private readonly o: DesktopStandInOptions) {}

  private emit<E extends EventChannel>(event: E, payload: EventMap[E]): void {
    void this.page?.evaluate(([e, p]) => (window as unknown as { __labhubDeliver(e: string, p: unknown): void }).__labhubDeliver(e, p), [event, payload] as const).catch(() => undefined);
  }

  private handlers(): Record<InvokeChannel, (event: { senderFrame: { url: string; parent: null } }, ...args: unknown[]) => Promise<unknown>> {
    const opts = { isTrustedSender: (url: string) => new URL(url).origin === this.o.origin };
    const installerListener = {
      onOutput: (id: string, data: string) => this.emit(EVENTS.installerOutput, { id, data }),
      onExit: (exit: EventMap['installer:exit']) => this.emit(EVENTS.installerExit, exit),
    };
    const terminalListener = {
      onData: (id: string, data: string) => this.emit(EVENTS.terminalData, { id, data }),
      onExit: (exit: EventMap['terminal:exit']) => this.emit(EVENTS.terminalExit, exit),
    };
    return {
      'hub:status': handle('hub:status', () => this.o.status, opts),
      'hub:restart': handle('hub:restart', () => (this.restarts++, this.o.status), opts),
      'hub:log-tail': handle('hub:log-tail', (n = 100) => this.o.logLines.slice(-n), opts),
      'hub:url': handle('hub:url', () => this.o.origin, opts),
      'installer:run': handle('installer:run', (size) => this.installer.run(installerListener, size), opts),
      'installer:cancel': handle('installer:cancel', (id) => this.installer.cancel(id), opts),
      'terminal:open': handle('terminal:open', (user, size) => this.terminals.open(user, terminalListener, size), opts),
      'terminal:input': handle('terminal:input', (id, data) => this.terminals.write(id, data), opts),
      'terminal:resize': handle('terminal:resize', (id, size) => this.terminals.resize(id, size), opts),
      'terminal:close': handle('terminal:close', (id) => this.terminals.close(id), opts),
      'app:open-external': handle('app:open-external', () => undefined, opts),
    } as never;
  }

  /** Gives every page of `context` the bridge; `page` receives the events. */
  async attach(context: BrowserContext, page: Page): Promise<void> {
    this.page = page;
    const handlers = this.handlers();
    await context.exposeBinding('__labhubInvoke', async ({ frame }, channel: string, args: unknown[]) => {
      this.calls.push({ channel, args });
      const h = handlers[channel as InvokeChannel];
      if (!h) throw new Error(`no handler for ${channel}`);
      return h({ senderFrame: { url: frame.url(), parent: null } }, ...args);
    });
    await context.addInitScript({ content: await bridgeScript() });
  }

  async close(): Promise<void> {
    await this.terminals.closeAll();
    await this.installer.close().catch(() => undefined);
  }
}
