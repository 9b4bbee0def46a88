/**
 * Wraps one contract channel's implementation for `ipcMain.handle`: checks who sent it, validates
 * the arguments, runs it and answers in the result envelope. Never throws, so nothing is lost in
 * Electron's error serialisation; unexpected errors reach the renderer as a generic INTERNAL
 * message and the log with their stack.
 */
import { PrivilegedError } from '../privileged.js';
import { ContractError, VALIDATORS, type InvokeArgs, type InvokeChannel, type InvokeResult, type Result } from './contract.js';

/** The part of Electron's `IpcMainInvokeEvent` that is used: the frame that sent the message. */
export interface SenderLike {
  senderFrame?: { url: string; parent?: unknown } | null;
}

export interface HandleOptions {
  /** Whether a sending frame's URL may use the contract (see security.ts `isTrustedSender`). */
  isTrustedSender?: (url: string) => boolean;
  /** Where unexpected errors go (the app's log); the renderer only sees a generic message. */
  onUnexpectedError?: (channel: InvokeChannel, err: unknown) => void;
}

export type ChannelImpl<C extends InvokeChannel> = (...args: InvokeArgs<C>) => InvokeResult<C> | Promise<InvokeResult<C>>;

/** The listener to pass to `ipcMain.handle(channel, …)`. */
export function handle<C extends InvokeChannel>(
  channel: C,
  impl: ChannelImpl<C>,
  opts: HandleOptions = {},
): (event: SenderLike, ...raw: unknown[]) => Promise<Result<InvokeResult<C>>> {
  return async (event, ...raw) => {
    try {
      if (opts.isTrustedSender) {
        const frame = event.senderFrame;
        // only top-level frames of our own pages: an iframe's page is never trusted
        if (!frame || frame.parent || !opts.isTrustedSender(frame.url)) {
          throw new ContractError('NOT_ALLOWED', `${channel}: this page may not use the LabHub app's functions`);
        }
      }
      const args = VALIDATORS[channel](raw) as InvokeArgs<C>;
      const value = await impl(...args);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, error: toIpcError(channel, err, opts) };
    }
  };
}

function toIpcError(channel: InvokeChannel, err: unknown, opts: HandleOptions) {
  if (err instanceof ContractError) return { code: err.code, message: err.message };
  if (err instanceof PrivilegedError) return { code: 'PRIVILEGED_FAILED' as const, message: err.message };
  opts.onUnexpectedError?.(channel, err);
  return { code: 'INTERNAL' as const, message: `${channel} failed unexpectedly; see the app's log` };
}
