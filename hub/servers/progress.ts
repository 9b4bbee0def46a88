/**
 * Progress of one spawn as JupyterHub's progress stream shows it: a list of events, the last of
 * which is `ready` or `failed`, replayed to late subscribers.
 */

export interface ProgressMessage {
  progress: number;
  message: string;
  html_message?: string;
  ready?: boolean;
  failed?: boolean;
  url?: string;
}

export class ProgressLog {
  readonly events: ProgressMessage[] = [];
  private readonly listeners = new Set<(e: ProgressMessage) => void>();
  done = false;

  push(event: ProgressMessage): void {
    if (this.done) return;
    this.events.push(event);
    if (event.ready || event.failed) this.done = true;
    for (const l of [...this.listeners]) l(event);
    if (this.done) this.listeners.clear();
  }

  /** Calls `fn` for every past and future event; returns the unsubscribe function. */
  subscribe(fn: (e: ProgressMessage) => void): () => void {
    for (const e of this.events) fn(e);
    if (this.done) return () => undefined;
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
