/**
 * LabHub configuration: one zod schema with defaults, loaded from a JSON file, the environment and
 * the command line (argv > env > file > defaults), validated once and frozen.
 * An invalid config is reported with every problem and its path (exit code 2 in main.ts).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
// zod's v3 API: the v4 build costs ~11 MB more resident memory in every LabHub process (measured
// with Node 20), and the proxy and hub together have a 110 MB budget
import { Cron } from 'croner';
import { parseSize } from './quota/size.js';
import { z } from 'zod/v3';

const port = z.number().int().min(0).max(65535);
const ip = z.string().min(1);
const linuxName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user or group name');

const defaultDataDir = process.getuid?.() === 0 ? '/var/lib/labhub' : join(homedir(), '.local/share/labhub');

/** A cron expression croner accepts (5 or 6 fields). */
/** A size: bytes, or a string like "500M" / "5G" (binary units); 0 = no limit. */
const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseSize(v);
  if (bytes === null) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a size such as "500M" or "5G" (0 = no limit)' });
  return bytes ?? 0;
});

/** Limits for one user or group (absent = inherit). */
const limits = z
  .object({
    /** Disk: warn over `diskSoft`, refuse to start a server over `diskHard`. */
    diskSoft: size.optional(),
    diskHard: size.optional(),
    /** Memory of the user's server (all its kernels together). */
    memory: size.optional(),
    /** CPU cores the server may use (e.g. 0.5, 2). */
    cpus: z.number().min(0).max(1024).optional(),
  })
  .strict();

const cronExpression = z.string().refine(
  (v) => {
    try {
      new Cron(v, { paused: true }).stop();
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a cron expression, e.g. "0 2 * * *" (02:00 every day)' },
);

/**
 * `proxy.tls`: with `cert` and `key` set the public port speaks https only. The files are checked
 * at start (readable, key matches cert, key not world-readable) by hub/tls/files.ts.
 */
const tlsSchema = z
  .object({
    /** PEM certificate (with its chain), e.g. `/etc/labhub/tls/server.crt` from `labhub tls init`. */
    cert: z.string().default(''),
    /** PEM private key of `cert` (mode 0600 or 0640; never world-readable). */
    key: z.string().default(''),
    /**
     * The CA certificate that issued `cert`, offered on the login page at `/hub/ca.crt`; empty = no
     * link. May be set without `cert` when nginx or Apache in front terminates TLS with it.
     */
    caCert: z.string().default(''),
    /** A plain-http port that redirects to https (e.g. 80 when `port` is 443); 0 = none. */
    httpRedirectPort: port.default(0),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.cert === '') !== (v.key === '')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [v.cert === '' ? 'cert' : 'key'], message: 'cert and key must be set together' });
    }
    if (v.cert === '' && v.httpRedirectPort !== 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['httpRedirectPort'], message: 'needs https here (cert and key); behind nginx or Apache, redirect there' });
    }
  })
  .default({});

const absolutePath = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path');

/** `spawner.docker`: one container per student (README "Docker spawner"). */
const dockerSpawnerSchema = z
  .object({
    /** A local image (built by `labhub image build`); never pulled. */
    image: z.string().regex(/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?$/, 'must be an image name such as labhub/singleuser:latest').default('labhub/singleuser:latest'),
    /** `host`: the server listens on 127.0.0.1:<port> and reaches the hub on 127.0.0.1; else a Docker network (`bridge`, …). */
    network: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/).default('host'),
    /** Extra bind mounts, read-only unless `readOnly: false` (e.g. shared course data). */
    volumes: z
      .array(z.object({ source: absolutePath, target: absolutePath, readOnly: z.boolean().default(true) }).strict())
      .default([]),
    /** Extra environment for containers, over `spawner.environment`. */
    environment: z.record(z.string(), z.string()).default({}),
    /** Remove a container when its server stops or dies (its output goes to the user's log first). */
    removeOnStop: z.boolean().default(true),
    /** Keep Docker's default capabilities and allow privilege gain (sudo in the image); servers still run as the student. */
    allowRoot: z.boolean().default(false),
    /** Most processes in one container (0 = Docker's default, unlimited). */
    pidsLimit: z.number().int().min(0).default(512),
    /** The Docker daemon's socket. */
    socketPath: absolutePath.default('/var/run/docker.sock'),
    /**
     * Parent cgroup of the containers. `auto`: `/` with Docker's cgroupfs driver (else all containers
     * share `/docker`, which weighs as one process against the rest of the machine), Docker's
     * default with the systemd driver; `""`: Docker's default; or a path / systemd slice.
     */
    cgroupParent: z
      .string()
      .regex(/^(auto|\/[A-Za-z0-9_.\/-]*|[A-Za-z0-9_.-]+\.slice)?$/, 'must be auto, a cgroup path such as /, or a systemd slice such as labhub.slice')
      .default('auto'),
  })
  .strict();

export const configSchema = z
  .object({
    /** Public address and port of the proxy (what students open). */
    ip: ip.default('0.0.0.0'),
    port: port.default(8000),
    hub: z
      .object({
        /** Where the hub listens; only the proxy and single-user servers talk to it. */
        ip: ip.default('127.0.0.1'),
        port: port.default(8081),
        /** URL single-user servers use for the hub API; derived from ip/port when empty. */
        connectUrl: z.string().default(''),
      })
      .strict()
      .default({}),
    proxy: z
      .object({
        /** Control API of the proxy: loopback only, token-protected. */
        apiIp: ip.default('127.0.0.1'),
        apiPort: port.default(8001),
        /** HTTPS on the public port (hub/tls; README "HTTPS"). */
        tls: tlsSchema,
        /**
         * Addresses of front proxies (nginx, Apache) whose X-Forwarded-For/-Proto/-Host/-Port are
         * believed; from anyone else those headers are replaced by what the proxy itself saw.
         */
        trustedProxies: z.array(z.string().refine((v) => isIP(v) !== 0, 'must be an IP address (exact, no ranges)')).default([]),
      })
      .strict()
      .default({}),
    /** State (lowdb file, proxy routes, secrets). */
    dataDir: z.string().min(1).default(defaultDataDir),
    /** Hub, proxy and per-user server logs; empty = `<dataDir>/logs`. */
    logDir: z.string().default(''),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    auth: z
      .object({
        pamService: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('login'),
        /** When non-empty, only members of one of these groups may log in. */
        allowedGroups: z.array(linuxName).default([]),
        adminUsers: z.array(linuxName).default([]),
        adminGroups: z.array(linuxName).default([]),
        /** Accounts below this uid are system accounts and never log in. */
        minUid: z.number().int().min(1).default(1000),
        /** Failed logins per user name before it is locked out. */
        maxFailuresPerUser: z.number().int().min(1).default(5),
        /** Failed logins per client address before the address is locked out. */
        maxFailuresPerAddress: z.number().int().min(1).default(20),
        /** Failures older than this are forgotten. */
        failureWindowSeconds: z.number().int().min(1).default(900),
        lockoutSeconds: z.number().int().min(1).default(300),
      })
      .strict()
      .default({}),
    cookie: z
      .object({
        maxAgeDays: z.number().min(0.001).default(14),
        /** `auto`: Secure when the request came over https (X-Forwarded-Proto from the proxy). */
        secure: z.enum(['auto', 'always', 'never']).default('auto'),
      })
      .strict()
      .default({}),
    spawner: z
      .object({
        /** `local`: a process per student; `docker`: a container per student (`spawner.docker`). */
        kind: z.enum(['local', 'docker']).default('local'),
        /** argv of the single-user server; no shell is involved. */
        cmd: z.array(z.string().min(1)).min(1).default(['jupyterhub-singleuser']),
        args: z.array(z.string()).default([]),
        /** Extra environment for every server; applied last (may override the JUPYTERHUB_* set). */
        environment: z.record(z.string(), z.string()).default({
          JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp',
        }),
        /** PATH given to servers: never the hub's own. */
        path: z.string().default('/usr/local/bin:/usr/bin:/bin'),
        defaultUrl: z.string().default(''),
        /** Seconds a spawn may take until the server answers HTTP. */
        startTimeoutSeconds: z.number().min(1).default(60),
        /** Seconds between SIGINT, SIGTERM and SIGKILL when stopping. */
        stopGraceSeconds: z.number().min(0.1).default(10),
        /** Stop every running server when the hub shuts down (default: leave them running). */
        stopOnShutdown: z.boolean().default(false),
        /**
         * Spawns running at once; the rest wait in a fair FIFO queue. 0 = sized for the machine
         * (each start costs ~1-1.5 CPU-seconds, so about one per core plus one).
         */
        concurrency: z.number().int().min(0).default(0),
        /** Most servers running or starting at once (0 = no limit); beyond it a start is refused with a clear message. */
        activeServerLimit: z.number().int().min(0).default(0),
        /** The Docker spawner (kind `docker`; hub/spawner/docker.ts). */
        docker: dockerSpawnerSchema.default({}),
        /**
         * The pre-warmed launcher for local servers (hub/spawner/launcher.ts): forks servers from a
         * process that has already imported jupyterhub-singleuser; cold start whenever it cannot.
         */
        launcher: z
          .object({
            enabled: z.boolean().default(true),
            /** The system Python that owns the single-user packages (its jupyterhub-singleuser's `#!`). */
            python: z.string().regex(/^\//, 'must be an absolute path').default('/usr/bin/python3'),
            /** Restart the launcher after this many forks. */
            maxForks: z.number().int().min(1).default(500),
            /** Restart the launcher when its own resident memory grows past this (MB). */
            maxRssMb: z.number().int().min(50).default(400),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    culler: z
      .object({
        /** Stop servers idle longer than `idleTimeoutSeconds`. */
        enabled: z.boolean().default(true),
        idleTimeoutSeconds: z.number().min(1).default(3600),
        /** Stop servers older than this regardless of activity (0 = never). */
        maxAgeSeconds: z.number().min(0).default(0),
        /** Cull admins' servers too. */
        cullAdmins: z.boolean().default(true),
        /** How often the culler looks. */
        intervalSeconds: z.number().min(0.1).default(60),
      })
      .strict()
      .default({}),
    /** Disk, memory and CPU limits per student, with per-group and per-user overrides (hub/quota). */
    quota: z
      .object({
        /**
         * `auto`: kernel quotas where the home filesystem has them (enforced), else measured usage
         * (monitored); `monitored` never touches kernel quotas; `off` measures nothing.
         */
        diskMode: z.enum(['auto', 'enforced', 'monitored', 'off']).default('auto'),
        /** How often homes are measured in monitored mode (minutes). */
        scanIntervalMinutes: z.number().min(0.05).default(10),
        /** The defaults for everyone (0 = no limit). */
        defaults: limits.default({}),
        /** Overrides by Linux group (e.g. `teachers`); a user in several gets the largest of each. */
        groups: z.record(linuxName, limits).default({}),
        /** Overrides for single users (win over groups). */
        users: z.record(linuxName, limits).default({}),
      })
      .strict()
      .default({}),
    /** Home-directory backups with restic (hub/backup). */
    backup: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * A restic repository: a local path (a mounted backup disk) or any restic backend
         * (`sftp:…`, `rest:…`, `s3:…`; its credentials go in `environment`).
         */
        repository: z.string().min(1).default('/var/backups/labhub/restic'),
        /** The repository password file (0600, root); empty = `<dataDir>/backup-password`, made at first use. */
        passwordFile: z.string().default(''),
        /** Extra environment for restic (backend credentials). Never logged. */
        environment: z.record(z.string(), z.string()).default({}),
        /** The restic binary. */
        restic: z.string().min(1).default('restic'),
        /** When backups run (cron, server local time). */
        schedule: cronExpression.default('0 2 * * *'),
        /** When `restic check` runs (cron). */
        checkSchedule: cronExpression.default('30 4 * * 0'),
        /** Snapshots kept per user by `forget --prune` after each scheduled run. */
        retention: z
          .object({
            daily: z.number().int().min(0).default(7),
            weekly: z.number().int().min(0).default(4),
            monthly: z.number().int().min(0).default(6),
          })
          .strict()
          .default({}),
        /** restic exclude patterns, applied inside every home. */
        excludes: z.array(z.string().min(1)).default(['.cache', '__pycache__', '.local/share/Trash']),
        /** A user with no successful backup for this many days is flagged on the dashboard. */
        staleDays: z.number().int().min(1).default(2),
        /**
         * Homes backed up at the same time (each is one restic process). Most of an unchanged home's
         * backup is restic starting up and waiting 200 ms on its lock, which overlaps well.
         */
        parallel: z.number().int().min(1).max(32).default(8),
      })
      .strict()
      .default({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Raised for any config problem; `problems` holds one `path: message` line each. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${source}):\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Options that may come from the command line (flags of `labhub serve|hub|proxy`). */
export interface ConfigArgv {
  config?: string;
  ip?: string;
  port?: number;
  dataDir?: string;
}

/** Validates a plain object (already merged) and returns the frozen config. */
export function parseConfig(input: unknown, source = 'config'): Readonly<Config> {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.length ? issue.path.join('.') : '(top level)';
      return `${path}: ${issue.message}`;
    });
    throw new ConfigError(source, problems);
  }
  const cfg = result.data;
  if (!cfg.logDir) cfg.logDir = join(cfg.dataDir, 'logs');
  return deepFreeze(cfg);
}

/**
 * Loads the config: defaults < file < env (LABHUB_CONFIG, LABHUB_IP, LABHUB_PORT, LABHUB_DATA_DIR)
 * < argv. A missing file named explicitly is an error; the default path may be absent.
 */
export function loadConfig(argv: ConfigArgv = {}, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const file = argv.config ?? env.LABHUB_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) raw = readConfigFile(file);
  const merged: Record<string, unknown> = { ...raw };
  const problems: string[] = [];
  const envPort = env.LABHUB_PORT;
  if (env.LABHUB_IP) merged.ip = env.LABHUB_IP;
  if (envPort !== undefined && envPort !== '') {
    if (!/^\d+$/.test(envPort)) problems.push(`LABHUB_PORT: expected a port number, got "${envPort}"`);
    else merged.port = Number(envPort);
  }
  if (env.LABHUB_DATA_DIR) merged.dataDir = env.LABHUB_DATA_DIR;
  if (argv.ip !== undefined) merged.ip = argv.ip;
  if (argv.port !== undefined) merged.port = argv.port;
  if (argv.dataDir !== undefined) merged.dataDir = argv.dataDir;
  if (problems.length) throw new ConfigError('environment', problems);
  return parseConfig(merged, file ?? 'defaults');
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(file, ['(top level): expected a JSON object']);
  }
  return data as Record<string, unknown>;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The URL single-user servers use to reach the hub API (no trailing slash). */
export function hubApiUrl(cfg: Config): string {
  if (cfg.hub.connectUrl) return cfg.hub.connectUrl.replace(/\/+$/, '') + '/hub/api';
  const host = cfg.hub.ip === '0.0.0.0' ? '127.0.0.1' : cfg.hub.ip;
  return `http://${host}:${cfg.hub.port}/hub/api`;
}
