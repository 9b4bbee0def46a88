/**
 * The `labhub` command: `serve` (proxy + hub, the single-command default), `hub`, `proxy`.
 * Exit codes: 0 ok, 1 runtime failure, 2 invalid usage or configuration.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config, type ConfigArgv } from './config.js';
import { createLogger, type Logger } from './log.js';
import { LABHUB_VERSION } from './version.js';
import { StateDamagedError } from './store/durable-file.js';

export const USAGE = `Usage: labhub <command> [options]

Commands:
  serve     run the proxy (if it is not already running) and the hub: the single-command default
  hub       run only the hub (expects a running proxy: see "labhub proxy")
  proxy     run only the proxy (public port; control API on 127.0.0.1)
  users     list|add|remove hub users (admin; needs a running hub)
  token     create an API token for a user (admin; needs a running hub)
  backup    run|list|restore|check backups of the homes (admin; needs a running hub)
  quota     show|set|clear disk, memory and CPU limits (admin; needs a running hub)
  image     build the Docker spawner's single-user image from resources/images/ (no registry)
  tls       init --dir DIR [--hostname NAME...]: a local CA and a server certificate for https

Options:
  --config FILE     JSON config file (default: $LABHUB_CONFIG, else built-in defaults)
  --ip ADDR         public address of the proxy (default 0.0.0.0)
  --port N          public port of the proxy (default 8000)
  --data-dir DIR    state directory (default /var/lib/labhub as root)
  --keep-proxy      serve: leave the proxy running when the hub stops
  --json            users list: print JSON
  --admin           users add: make them LabHub admins
  --scopes S,S      token create: scopes (default: all of the user's own)
  --note TEXT       token create: a note shown in token lists
  --expires-in N    token create: lifetime in seconds
  --wait            backup run|check: wait until it has ended (exit 1 unless it was ok)
  --in-place        backup restore: overwrite the files in the home instead of ~/restored-<time>/
  --yes             backup restore --in-place: confirm (without it, only list what would be overwritten)
  --soft SIZE       quota set: disk soft limit (warning), e.g. 5G; 0 = none
  --hard SIZE       quota set: disk hard limit (no server start over it)
  --memory SIZE     quota set: memory of the user's server
  --cpus N          quota set: CPU cores of the user's server
  --force           image build: rebuild even when the image is up to date
  -h, --help        show this help
  -v, --version     show the version

Students open http://<this server>:<port>/ and log in with their Linux password.
See README.md for the configuration reference.`;


interface ParsedArgs {
  command: string | undefined;
  rest: string[];
  adminOptions: {
    json: boolean;
    admin: boolean;
    scopes?: string;
    note?: string;
    expiresIn?: string;
    wait: boolean;
    inPlace: boolean;
    yes: boolean;
    soft?: string;
    hard?: string;
    memory?: string;
    cpus?: string;
    force: boolean;
  };
  configArgv: ConfigArgv;
  keepProxy: boolean;
  help: boolean;
  version: boolean;
}

export function parseCliArgs(argv: string[]): ParsedArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      ip: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'keep-proxy': { type: 'boolean' },
      json: { type: 'boolean' },
      admin: { type: 'boolean' },
      scopes: { type: 'string' },
      note: { type: 'string' },
      'expires-in': { type: 'string' },
      wait: { type: 'boolean' },
      'in-place': { type: 'boolean' },
      yes: { type: 'boolean' },
      soft: { type: 'string' },
      hard: { type: 'string' },
      memory: { type: 'string' },
      cpus: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const configArgv: ConfigArgv = {};
  if (values.config) configArgv.config = values.config;
  if (values.ip) configArgv.ip = values.ip;
  if (values['data-dir']) configArgv.dataDir = values['data-dir'];
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port)) throw new ConfigError('command line', [`--port: expected a port number, got "${values.port}"`]);
    configArgv.port = Number(values.port);
  }
  const admin = ['users', 'token', 'backup', 'quota', 'image'].includes(positionals[0] ?? '');
  if (!admin && positionals.length > 1) throw new ConfigError('command line', [`unexpected argument "${positionals[1]}"`]);
  return {
    command: positionals[0],
    rest: positionals.slice(1),
    configArgv,
    keepProxy: !!values['keep-proxy'],
    help: !!values.help,
    version: !!values.version,
    adminOptions: {
      json: !!values.json,
      admin: !!values.admin,
      scopes: values.scopes,
      note: values.note,
      expiresIn: values['expires-in'],
      wait: !!values.wait,
      inPlace: !!values['in-place'],
      yes: !!values.yes,
      soft: values.soft,
      hard: values.hard,
      memory: values.memory,
      cpus: values.cpus,
      force: !!values.force,
    },
  };
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function runCli(argv: string[]): Promise<number> {
  if (argv[0] === 'tls') {
    const { runTlsCommand } = await import('./tls/command.js');
    return runTlsCommand(argv.slice(1), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  let args: ParsedArgs;
  let config: Readonly<Config>;
  try {
    args = parseCliArgs(argv);
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`labhub ${LABHUB_VERSION}\n`);
      return 0;
    }
    if (!args.command || !['serve', 'hub', 'proxy', 'users', 'token', 'backup', 'quota', 'image'].includes(args.command)) {
      process.stderr.write(`${args.command ? `labhub: unknown command "${args.command}"\n\n` : ''}${USAGE}\n`);
      return 2;
    }
    config = loadConfig(args.configArgv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`labhub: ${err.message}\n`);
      return 2;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`labhub: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.command === 'image') {
    const { runImageCommand } = await import('./spawner/docker/image-command.js');
    return runImageCommand(args.rest, { force: args.adminOptions.force });
  }
  if (['users', 'token', 'backup', 'quota'].includes(args.command)) {
    const { runAdminCommand, AdminCommandError } = await import('./admin/commands.js');
    const { runBackupCommand } = await import('./admin/backup-commands.js');
    const { runQuotaCommand } = await import('./admin/quota-commands.js');
    try {
      const out =
        args.command === 'backup'
          ? await runBackupCommand(config, args.rest, args.adminOptions)
          : args.command === 'quota'
            ? await runQuotaCommand(config, args.rest, args.adminOptions)
            : { text: await runAdminCommand(config, [args.command, ...args.rest], args.adminOptions), code: 0 };
      process.stdout.write(`${out.text}\n`);
      return out.code;
    } catch (err) {
      if (!(err instanceof AdminCommandError)) throw err;
      process.stderr.write(`labhub: ${err.message}\n`);
      return err.message.startsWith('unknown command') || err.message.startsWith('usage:') ? 2 : 1;
    }
  }
  process.umask(0o022);
  const log = createLogger({ name: args.command === 'proxy' ? 'proxy' : 'hub', level: config.logLevel, logDir: config.logDir });
  log.info({ config: args.configArgv.config ?? process.env.LABHUB_CONFIG ?? '(defaults)', summary: redactedSummary(config) }, `labhub ${args.command} starting`);
  try {
    if (args.command === 'proxy') return await runProxyCommand(config, log);
    return await runHubCommand(config, log, args);
  } catch (err) {
    if (err instanceof StateDamagedError) {
      log.fatal(err.message);
      process.stderr.write(`labhub: ${err.message}\n`);
      return 1;
    }
    log.fatal({ err }, 'labhub failed');
    process.stderr.write(`labhub: ${(err as Error).message}\n`);
    return 1;
  }
}

function redactedSummary(c: Readonly<Config>) {
  return {
    public: `${c.ip}:${c.port}`,
    hub: `${c.hub.ip}:${c.hub.port}`,
    proxyApi: `${c.proxy.apiIp}:${c.proxy.apiPort}`,
    dataDir: c.dataDir,
    logDir: c.logDir,
    pamService: c.auth.pamService,
    allowedGroups: c.auth.allowedGroups,
    adminUsers: c.auth.adminUsers,
    adminGroups: c.auth.adminGroups,
    spawner: { kind: c.spawner.kind, cmd: c.spawner.cmd },
  };
}

async function runProxyCommand(config: Readonly<Config>, log: Logger): Promise<number> {
  const { runProxy } = await import('./proxy/run.js');
  const proxy = await runProxy(config, log);
  // SIGHUP: re-read the TLS certificate and key (renewals), keeping every connection
  const onHup = (): void => void proxy.proxy.reloadTls();
  if (config.proxy.tls.cert) process.on('SIGHUP', onHup);
  const sig = await waitForSignal();
  process.off('SIGHUP', onHup);
  log.info({ signal: sig }, 'proxy stopping');
  await proxy.close();
  return 0;
}

async function runHubCommand(config: Readonly<Config>, log: Logger, args: ParsedArgs): Promise<number> {
  let startedProxy: number | null = null;
  if (args.command === 'serve') startedProxy = await ensureProxy(config, log, args.configArgv);
  const { createHub } = await import('./server.js');
  const hub = await createHub(config, { logger: log, configFile: args.configArgv.config ?? process.env.LABHUB_CONFIG });
  await hub.listen();
  const sig = await waitForSignal();
  log.info({ signal: sig }, 'hub stopping');
  await hub.close();
  if (startedProxy && !args.keepProxy) {
    try {
      process.kill(startedProxy, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  return 0;
}

/**
 * Reuses a live proxy for this data dir, or starts `labhub proxy` as a detached process (own
 * session) so that it outlives a hub crash or restart. Returns the pid of a proxy it started.
 */
async function ensureProxy(config: Readonly<Config>, log: Logger, configArgv: ConfigArgv): Promise<number | null> {
  const { readProxyInfo, isProxyAlive } = await import('./proxy/client.js');
  const { loadOrCreateProxyToken } = await import('./proxy/secret.js');
  const token = loadOrCreateProxyToken(config.dataDir);
  const existing = readProxyInfo(config.dataDir);
  if (existing && (await isProxyAlive(existing, token))) {
    log.info({ pid: existing.pid, publicUrl: existing.publicUrl }, 'using the proxy that is already running');
    return null;
  }
  if (config.proxy.tls.cert) {
    // the detached proxy would only log it: say what is wrong with the files here, at once
    const { loadTlsFiles } = await import('./tls/files.js');
    loadTlsFiles(config.proxy.tls);
  }
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const argv = [main, 'proxy'];
  if (configArgv.config) argv.push('--config', configArgv.config);
  if (configArgv.ip) argv.push('--ip', configArgv.ip);
  if (configArgv.port !== undefined) argv.push('--port', String(configArgv.port));
  if (configArgv.dataDir) argv.push('--data-dir', configArgv.dataDir);
  mkdirSync(config.logDir, { recursive: true, mode: 0o750 });
  const out = openSync(join(config.logDir, 'proxy.out'), 'a', 0o600);
  const child = spawn(process.execPath, argv, { detached: true, stdio: ['ignore', out, out], env: process.env });
  closeSync(out);
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the proxy exited at start (code ${child.exitCode}); see ${join(config.logDir, 'proxy.out')}`);
    const info = readProxyInfo(config.dataDir);
    if (info && info.pid === child.pid && (await isProxyAlive(info, token))) {
      log.info({ pid: child.pid, publicUrl: info.publicUrl }, 'proxy started');
      return child.pid!;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the proxy did not start within 15 s; see ${join(config.logDir, 'proxy.out')}`);
}
