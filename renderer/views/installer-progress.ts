/**
 * Follows the installer's progress in its terminal output: install.sh prints each step as
 * "==> [i/N] what it does" (installer/lib/common.sh), possibly coloured and split across chunks.
 */
export interface InstallerStep {
  index: number;
  total: number;
  text: string;
}

const STEP = /^==> \[(\d+)\/(\d+)\] (.+)$/;
// colour and cursor sequences a pty may put around the text
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

export class InstallerProgress {
  private partial = '';
  step: InstallerStep | null = null;

  /** Feeds a chunk of output; true when it began a new step. */
  push(data: string): boolean {
    const lines = (this.partial + data).split('\n');
    this.partial = (lines.pop() ?? '').slice(-4096);
    let changed = false;
    for (const raw of lines) {
      const m = STEP.exec(raw.replace(ESCAPES, '').replace(/\r/g, '').trim());
      if (!m) continue;
      this.step = { index: Number(m[1]), total: Number(m[2]), text: m[3]! };
      changed = true;
    }
    return changed;
  }

  reset(): void {
    this.partial = '';
    this.step = null;
  }
}
