/**
 * Sizes as the hub reads them (hub/quota/size.ts): `500M`, `5G`, `1.5GiB`, `0`, binary units
 * (K = 1024) as `du -h` and `setquota` use. Kept in step with the hub's parser so the form can
 * check a size before sending it; the hub checks again.
 */

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Bytes of a size string; null when it is not a size. `0` means "no limit". */
export function parseSize(value: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$/i.exec(value);
  if (!m) return null;
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  return Number.isFinite(bytes) ? Math.floor(bytes) : null;
}

/** `1.5G`, `300M`, `12K`, `0`: what the form shows and accepts back. */
export function formatSize(bytes: number): string {
  if (bytes <= 0) return '0';
  for (const [unit, f] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (bytes >= f) {
      const v = bytes / f;
      return `${v >= 100 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)}${unit}`;
    }
  }
  return `${bytes}B`;
}

/** A limit for a table cell: "5G", "2 cores", "no limit". */
export function limitText(key: 'diskSoft' | 'diskHard' | 'memory' | 'cpus', value: number | undefined): string {
  if (value === undefined) return '—';
  if (value === 0) return 'no limit';
  return key === 'cpus' ? `${value} core${value === 1 ? '' : 's'}` : formatSize(value);
}
