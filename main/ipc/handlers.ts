/**
 * What each contract channel does, over the app's parts (supervisor, installer, terminals), and
 * their registration with `ipcMain` through `handle()`. Plain functions over interfaces, so the
 * routing is tested with fakes; index.ts passes the real parts and Electron's ipcMain.
 */
import type { HubSupervisor } from '../hub-supervisor.js';
import type { InstallerRunner } from '../installer-runner.js';
import type { TerminalManager } from '../terminal.js';
import { ContractError, INVOKE, type EventChannel, type EventMap, type InvokeChannel } from './contract.js';
import { handle, type ChannelImpl, type HandleOptions, type SenderLike } from './handle.js';

export interface HandlerDeps {
  supervisor: Pick<HubSupervisor, 'status' | 'restart' | 'logTail'>;
  installer: Pick<InstallerRunner, 'run' | 'cancel'>;
  terminals: Pick<TerminalManager, 'open' | 'write' | 'resize' | 'close'>;
  /** Sends an event to the window's renderer. */
  send: <E extends EventChannel>(event: E, payload: EventMap[E]) => void;
  /** Opens a URL in the system browser (Electron's shell.openExternal). */
  openExternal: (url: string) => void;
}

export type Handlers = { [C in InvokeChannel]: ChannelImpl<C> };

/** The implementation of every request channel. */
export function createHandlers(d: HandlerDeps): Handlers {
  return {
    'hub:status': () => d.supervisor.status(),
    'hub:restart': async () => {
      await d.supervisor.restart();
      return d.supervisor.status();
    },
    'hub:log-tail': (lines) => d.supervisor.logTail(lines ?? 200),
    'hub:url': () => d.supervisor.status().hubUrl,
    'installer:run': (size) =>
      d.installer.run(
        {
          onOutput: (id, data) => d.send('installer:output', { id, data }),
          onExit: (exit) => d.send('installer:exit', exit),
        },
        size,
      ),
    'installer:cancel': (id) => d.installer.cancel(id),
    'terminal:open': (user, size) =>
      d.terminals.open(
        user,
        {
          onData: (id, data) => d.send('terminal:data', { id, data }),
          onExit: (exit) => d.send('terminal:exit', exit),
        },
        size,
      ),
    'terminal:input': (id, data) => d.terminals.write(id, data),
    'terminal:resize': (id, size) => d.terminals.resize(id, size),
    'terminal:close': (id) => d.terminals.close(id),
    'app:open-external': () => {
      const url = d.supervisor.status().hubUrl;
      if (!url) throw new ContractError('NOT_FOUND', 'the hub’s address is not known yet');
      d.openExternal(url);
    },
  };
}

/** The part of Electron's `ipcMain` used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: SenderLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** Registers every contract channel; returns a function that removes them again. */
export function registerHandlers(ipc: IpcMainLike, handlers: Handlers, opts: HandleOptions): () => void {
  const channels = Object.values(INVOKE);
  const register = <C extends InvokeChannel>(c: C) => ipc.handle(c, handle(c, handlers[c], opts));
  for (const c of channels) register(c);
  return () => {
    for (const c of channels) ipc.removeHandler(c);
  };
}
