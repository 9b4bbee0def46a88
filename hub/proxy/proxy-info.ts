/**
 * `<dataDir>/proxy.json`: how the hub and `labhub serve` find a running proxy (its pid, public
 * and control URLs), also when it was started on port 0. Written after listening, removed on a
 * clean shutdown; a stale file from a crash is recognised by `isProxyAlive` (client.ts).
 */
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

export const PROXY_INFO_FILE = 'proxy.json';

export interface ProxyInfo {
  pid: number;
  /** e.g. `http://127.0.0.1:8000` (`https://` with `proxy.tls`): a URL this machine can connect to (wildcards become loopback). */
  publicUrl: string;
  apiUrl: string;
  /** ISO-8601 */
  startedAt: string;
}

/** A URL for connecting to a bound address: `0.0.0.0` → `127.0.0.1`, `::` → `[::1]`. */
export function connectUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  let h = host;
  if (h === '0.0.0.0' || h === '') h = '127.0.0.1';
  else if (h === '::') h = '::1';
  return h.includes(':') ? `${scheme}://[${h}]:${port}` : `${scheme}://${h}:${port}`;
}

/** The parsed proxy.json, or null when it is missing or not a valid record. */
export function readProxyInfo(dataDir: string): ProxyInfo | null {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(join(dataDir, PROXY_INFO_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if (!Number.isInteger(d.pid) || typeof d.publicUrl !== 'string' || typeof d.apiUrl !== 'string' || typeof d.startedAt !== 'string') return null;
  return { pid: d.pid as number, publicUrl: d.publicUrl, apiUrl: d.apiUrl, startedAt: d.startedAt };
}

export async function writeProxyInfo(dataDir: string, info: ProxyInfo): Promise<void> {
  await writeFileAtomic(join(dataDir, PROXY_INFO_FILE), JSON.stringify(info, null, 1) + '\n');
}

/** Removes proxy.json if it still describes process `pid` (a newer proxy's file is left alone). */
export async function removeProxyInfo(dataDir: string, pid: number): Promise<void> {
  const current = readProxyInfo(dataDir);
  if (current !== null && current.pid !== pid) return;
  await fs.rm(join(dataDir, PROXY_INFO_FILE), { force: true });
}
