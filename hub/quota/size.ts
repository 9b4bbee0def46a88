/**
 * Sizes as people write them (`500M`, `5G`, `1.5GiB`, `0`): binary units (K = 1024), as `du -h`,
 * `setquota` and Docker do. Used by the config, the CLI and the API.
 */

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Bytes of a size string or number; null when it is not a size. `0` means "no limit". */
export function parseSize(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$/i.exec(value);
  if (!m) return null;
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  return Number.isFinite(bytes) ? Math.floor(bytes) : null;
}

/** `1.5G`, `300M`, `12K`, `0`: short and exact enough for a table. */
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
