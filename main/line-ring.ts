/**
 * The last N lines of a process's output (the hub's log tail in the app): a fixed-size ring, so a
 * chatty hub costs bounded memory. Chunks may split lines anywhere; an unfinished last line is
 * kept apart and shown as it is.
 */
export class LineRing {
  private readonly buf: string[] = [];
  private start = 0;
  private partial = '';

  constructor(
    readonly capacity: number,
    /** Longer lines are cut (with a marker) so one runaway line cannot hold megabytes. */
    private readonly maxLineChars = 4096,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('LineRing: capacity must be a positive integer');
  }

  /** Adds output; `\r\n` and `\n` both end a line. */
  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = this.cut(parts.pop() ?? '');
    for (const line of parts) this.add(this.cut(line));
  }

  /** The last `n` lines (all kept lines by default), oldest first, including an unfinished one. */
  lines(n?: number): string[] {
    const all = [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
    if (this.partial) all.push(this.partial);
    return n === undefined || n >= all.length ? all : all.slice(all.length - n);
  }

  clear(): void {
    this.buf.length = 0;
    this.start = 0;
    this.partial = '';
  }

  private add(line: string): void {
    if (this.buf.length < this.capacity) {
      this.buf.push(line);
      return;
    }
    this.buf[this.start] = line;
    this.start = (this.start + 1) % this.capacity;
  }

  private cut(line: string): string {
    return line.length > this.maxLineChars ? `${line.slice(0, this.maxLineChars)} …[cut]` : line;
  }
}
