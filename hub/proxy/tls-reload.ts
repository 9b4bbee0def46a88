/**
 * Certificate renewal without a restart (open websockets and kernels stay up): the proxy re-reads
 * `proxy.tls` on SIGHUP (cli.ts) and when the certificate or key file changes. Files are polled
 * with fs.watchFile, which follows symlinks, because certbot renews by re-pointing the symlinks in
 * `/etc/letsencrypt/live/…` and inotify on the old target would never fire. A renewal that is
 * half written (new certificate, old key) fails the check and the old context stays until the
 * next change.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from '../log.js';
import { loadTlsFiles, type TlsMaterial, type TlsPaths } from '../tls/files.js';

export interface TlsReloader {
  /** Re-reads the files; applies them and returns true when they are usable, else logs and keeps the old ones. */
  reload(reason: string): boolean;
  /** Starts looking at the files every `pollMs` (0 = never: only explicit reloads). */
  watch(): void;
  close(): void;
}

/** `apply` installs new material (https.Server#setSecureContext). */
export function createTlsReloader(paths: TlsPaths, apply: (m: TlsMaterial) => void, logger: Logger, pollMs: number): TlsReloader {
  const files = [paths.cert, paths.key];
  const reload = (reason: string): boolean => {
    let material: TlsMaterial;
    try {
      material = loadTlsFiles(paths);
    } catch (err) {
      logger.error({ reason, err: (err as Error).message }, 'TLS files not reloaded; the proxy keeps the certificate it has');
      return false;
    }
    apply(material);
    logger.info({ reason, ...material.summary }, 'TLS certificate reloaded');
    return true;
  };
  const onChange = (now: Stats, before: Stats): void => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    reload('file changed');
  };
  let watching = false;
  return {
    reload,
    watch(): void {
      if (watching || pollMs <= 0) return;
      watching = true;
      for (const f of files) watchFile(f, { interval: pollMs, persistent: false }, onChange);
    },
    close(): void {
      if (!watching) return;
      watching = false;
      for (const f of files) unwatchFile(f, onChange);
    },
  };
}
