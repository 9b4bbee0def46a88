/**
 * Builds the hub's pre-warmed launcher from the config (`spawner.launcher`, README "Fast starts:
 * the pre-warmed launcher"): paths under the data and log dirs, the app the servers run, and
 * whether it may start at all.
 */
import { basename, join } from 'node:path';
import type { Logger } from '../log.js';
import { PrewarmedLauncher } from './launcher.js';

/** The config fields the launcher is built from (a subset of `Config`). */
export interface LauncherConfig {
  dataDir: string;
  logDir: string;
  spawner: {
    cmd: readonly string[];
    environment: Readonly<Record<string, string>>;
    launcher: { enabled: boolean; python: string; maxForks: number; maxRssMb: number };
  };
}

/**
 * The launcher for a hub's local spawner, already starting; null when `spawner.launcher.enabled`
 * is off or the hub is not root. With a `spawner.cmd` other than jupyterhub-singleuser it is
 * never started, and every spawn's progress says so.
 */
export function launcherFromConfig(config: LauncherConfig, logger: Logger): PrewarmedLauncher | null {
  const c = config.spawner.launcher;
  if (!c.enabled || process.getuid?.() !== 0) return null;
  const launcher = new PrewarmedLauncher({
    python: c.python,
    runDir: join(config.dataDir, 'launcher'),
    logFile: join(config.logDir, 'launcher.log'),
    app: config.spawner.environment.JUPYTERHUB_SINGLEUSER_APP ?? '',
    maxForks: c.maxForks,
    maxRssMb: c.maxRssMb,
    logger,
  });
  const cmd = config.spawner.cmd[0] ?? '';
  if (basename(cmd) !== 'jupyterhub-singleuser') {
    launcher.disable(`spawner.cmd runs ${cmd}, not the jupyterhub-singleuser entry point`);
    logger.info({ cmd }, 'pre-warmed launcher not started: spawner.cmd is not jupyterhub-singleuser');
  } else {
    launcher.start();
  }
  return launcher;
}
