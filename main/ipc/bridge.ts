/**
 * The object the preload exposes as `window.labhub`: `invoke` and `on` for contract channels
 * only, so a page can never reach `ipcRenderer` itself or a channel main does not serve
 * (Electron's context-isolation advice: https://www.electronjs.org/docs/latest/tutorial/context-isolation).
 * Pure, so it is tested with a fake ipcRenderer under Node.
 */
import {
  isEventChannel,
  isInvokeChannel,
  type EventChannel,
  type EventMap,
  type InvokeArgs,
  type InvokeChannel,
  type InvokeResult,
  type Result,
} from './contract.js';

/** The part of Electron's `IpcRenderer` the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** `window.labhub` as the renderer sees it. */
export interface LabhubBridge {
  invoke<C extends InvokeChannel>(channel: C, ...args: InvokeArgs<C>): Promise<Result<InvokeResult<C>>>;
  /** Subscribes to a main → renderer event; the listener gets the payload only. Returns an unsubscribe function. */
  on<E extends EventChannel>(event: E, listener: (payload: EventMap[E]) => void): () => void;
}

/** Builds the bridge over an ipcRenderer; anything outside the contract is refused before it is sent. */
export function createBridge(ipc: IpcRendererLike): LabhubBridge {
  const bridge: LabhubBridge = {
    invoke(channel, ...args) {
      if (!isInvokeChannel(channel)) return Promise.reject(new Error(`labhub: unknown channel ${String(channel)}`));
      return ipc.invoke(channel, ...args) as Promise<Result<InvokeResult<typeof channel>>>;
    },
    on(event, listener) {
      if (!isEventChannel(event)) throw new Error(`labhub: unknown event ${String(event)}`);
      if (typeof listener !== 'function') throw new Error('labhub: listener must be a function');
      const wrapped = (_event: unknown, payload: unknown) => listener(payload as EventMap[typeof event]);
      ipc.on(event, wrapped);
      return () => void ipc.removeListener(event, wrapped);
    },
  };
  return Object.freeze(bridge);
}
