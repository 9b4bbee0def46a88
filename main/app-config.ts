/**
 * Where the app finds things: the hub config (`LABHUB_CONFIG`, else `/etc/labhub/config.json`
 * when the installer wrote one, else the hub's defaults), its data dir, the command that runs the
 * hub (`LABHUB_NODE` overrides Electron-as-Node), the installer script (`LABHUB_INSTALLER`
 * overrides the packaged one), and the app's own files. Pure apart from the config file read, so
 * the composition root stays short and this is unit-tested.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../hub/config.js';

/** The installed config (the installer's). */
export const SYSTEM_CONFIG = '/etc/labhub/config.json';

export interface AppPaths {
  /** The directory holding dist/ and resources/ (`app.getAppPath()`: a checkout, or app.asar). */
  appRoot: string;
  /** Where extraResources live (`process.resourcesPath` when packaged, else the checkout). */
  resourcesRoot: string;
  /** The binary that runs the hub: Electron's own, run as Node (`ELECTRON_RUN_AS_NODE=1`). */
  execPath: string;
}

export interface AppConfig {
  configFile: string | null;
  /** The hub's data dir, null when the config is invalid (`configProblem` says why). */
  dataDir: string | null;
  configProblem: string | null;
  /** The lab's own CA certificate file (`proxy.tls.caCert`), trusted for the hub's address only; null when none. */
  labCaCert: string | null;
  /** argv of `labhub serve` for the supervisor's child mode. */
  hubCommand: string[];
  hubEnv: NodeJS.ProcessEnv;
  installerScript: string;
  preload: string;
  shellPage: string;
  windowIcon: string;
  trayIcon: string;
}

/** Resolves the app's configuration from the environment and its install paths. */
export function resolveAppConfig(env: NodeJS.ProcessEnv, paths: AppPaths, fileExists: (p: string) => boolean = existsSync): AppConfig {
  const configFile = env.LABHUB_CONFIG || (fileExists(SYSTEM_CONFIG) ? SYSTEM_CONFIG : null);
  let dataDir: string | null = null;
  let configProblem: string | null = null;
  let labCaCert: string | null = null;
  try {
    const config = loadConfig(configFile ? { config: configFile } : {}, env);
    dataDir = config.dataDir;
    labCaCert = config.proxy.tls.caCert || null;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configProblem = err.message;
  }
  const hubMain = join(paths.appRoot, 'dist/hub/main.js');
  // LABHUB_NODE: run the hub with that Node instead (a checkout whose native modules, such as
  // authenticate-pam, are built for Node rather than Electron)
  const node = env.LABHUB_NODE || paths.execPath;
  return {
    configFile,
    dataDir,
    configProblem,
    labCaCert,
    hubCommand: [node, hubMain, 'serve', ...(configFile ? ['--config', configFile] : [])],
    // Electron's binary behaves as plain Node with this set (also for the proxy the hub starts)
    hubEnv: env.LABHUB_NODE ? { ...env } : { ...env, ELECTRON_RUN_AS_NODE: '1' },
    installerScript: env.LABHUB_INSTALLER || join(paths.resourcesRoot, 'installer/install.sh'),
    preload: join(paths.appRoot, 'dist/main/preload.cjs'),
    shellPage: join(paths.appRoot, 'resources/shell/index.html'),
    windowIcon: join(paths.appRoot, 'resources/icons/256x256.png'),
    trayIcon: join(paths.appRoot, 'resources/icons/32x32.png'),
  };
}
