/**
 * Progress of one spawn as JupyterHub's progress stream shows it: a list of events, the last of
 * which is `ready` or `failed`, replayed to late subscribers.
 */
import type { HubError } from '../errors.js';

export interface ProgressMessage {
  progress: number;
  message: string;
  html_message?: string;
  ready?: boolean;
  failed?: boolean;
  url?: string;
  /**
   * LabHub's addition while the spawn waits in the class-start queue (JupyterHub clients ignore
   * it): 1 = next to start, and the estimated wait in seconds.
   */
  queue?: { position: number; estimate_seconds: number };
}

export class ProgressLog {
  readonly events: ProgressMessage[] = [];
  private readonly listeners = new Set<(e: ProgressMessage) => void>();
  done = false;
  /** Why the spawn failed, for API callers that answer with the error itself. */
  error: HubError | null = null;

  push(event: ProgressMessage): void {
    if (this.done) return;
    // a new queue position replaces the previous one: a late subscriber needs only the current
    // place, not the whole way down the line
    if (event.queue && this.events.at(-1)?.queue) this.events[this.events.length - 1] = event;
    else this.events.push(event);
    if (event.ready || event.failed) this.done = true;
    for (const l of [...this.listeners]) l(event);
    if (this.done) this.listeners.clear();
  }

  /** Ends the spawn as failed: the event the student sees, and the error for the API. */
  fail(error: HubError, message = `Spawn failed: ${error.message}`): void {
    if (this.done) return;
    this.error = error;
    this.push({ progress: 100, failed: true, message });
  }

  /** Calls `fn` for every past and future event; returns the unsubscribe function. */
  subscribe(fn: (e: ProgressMessage) => void): () => void {
    for (const e of this.events) fn(e);
    if (this.done) return () => undefined;
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
