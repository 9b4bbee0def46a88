/**
 * Keeps the hub running for the desktop app. Three modes, decided at `start()`:
 * - systemd: systemd is PID 1 and the installer put `labhub.service` in place → only watch it and
 *   restart it through `systemctl restart` (privileged); never a second hub beside it;
 * - external: a hub already answers at the URL → watch it; if it stops answering, start our own;
 * - child: run `labhub serve` as a child process, health-check it, keep its output's last lines,
 *   restart it after a crash with exponential backoff, and stop at a crash loop (crash-policy.ts).
 * Under Electron the command is `[process.execPath, '<app>/dist/hub/main.js', 'serve', …]` with
 * `ELECTRON_RUN_AS_NODE=1` in `env`, so Electron's binary runs the hub as plain Node.
 */
import { ContractError, type HubExit, type HubState, type HubStatus } from './ipc/contract.js';
import { CrashPolicy, DEFAULT_CRASH_POLICY, type CrashPolicyOptions } from './crash-policy.js';
import { HubChild } from './hub-child.js';
import { probeHealth, resolveHubUrl } from './hub-health.js';
import { LineRing } from './line-ring.js';
import { HUB_UNIT, isUnitInstalled, type SystemdControl } from './systemd.js';

export interface HubSupervisorOptions {
  /** argv of `labhub serve` (no shell). */
  command: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** The hub's data dir, where the proxy writes `proxy.json` (its public URL). */
  dataDir: string;
  /** A fixed public URL instead of proxy.json's. */
  hubUrl?: string;
  /** The lab's own CA (PEM) when the proxy serves https with a certificate from `labhub tls init`. */
  labCa?: string | null;
  logLines?: number;
  crashPolicy?: Partial<CrashPolicyOptions>;
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when stopping the child. */
  stopGraceMs?: number;
  /** Failed checks in a row before a watched (external) hub counts as gone and we start our own. */
  externalFailures?: number;
  /** null: never use systemd (and tests on machines where it is not PID 1). */
  systemd: SystemdControl | null;
}

const MAX_EXITS = 10;
const SYSTEMD_NOTE = `${HUB_UNIT} is installed: the app watches it and restarts it through systemctl`;
const note = (text: string) => `[labhub-app] ${text}\n`;

/** Supervises one hub; `close()` stops what it started. */
export class HubSupervisor {
  private state: HubState = 'stopped';
  private mode: HubStatus['mode'] = 'none';
  private since = new Date().toISOString();
  private healthy = false;
  private message: string | null = null;
  private unitPid: number | null = null;
  private restarts = 0;
  private exits: HubExit[] = [];
  private child: HubChild | null = null;
  private stopping = false;
  private closed = false;
  private starting: Promise<void> | null = null;
  private restarting: Promise<void> | null = null;
  private failures = 0;
  private checking = false;
  private healthTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(s: HubStatus) => void>();
  private lastEmitted = '';
  private readonly log: LineRing;
  private readonly policy: CrashPolicy;

  constructor(private readonly opts: HubSupervisorOptions) {
    if (opts.command.length === 0) throw new Error('HubSupervisor: empty command');
    this.log = new LineRing(opts.logLines ?? 500);
    this.policy = new CrashPolicy({ ...DEFAULT_CRASH_POLICY, ...opts.crashPolicy });
  }

  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (s: HubStatus) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  status(): HubStatus {
    return {
      state: this.state,
      mode: this.mode,
      hubUrl: resolveHubUrl(this.opts.dataDir, this.opts.hubUrl),
      healthy: this.healthy,
      pid: this.child?.pid ?? this.unitPid,
      restarts: this.restarts,
      exits: [...this.exits],
      message: this.message,
      since: this.since,
    };
  }

  /** The child's (or, for a hub we did not start, our own notes') last output lines. */
  logTail(lines?: number): string[] {
    return this.log.lines(lines);
  }

  /** Finds an installed or running hub to watch, else starts `labhub serve`. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('HubSupervisor: closed'));
    this.starting ??= this.begin();
    return this.starting;
  }

  /** Restart by hand: systemctl for the unit, a fresh child otherwise (also out of a crash loop). */
  restart(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('HubSupervisor: closed'));
    this.restarting ??= this.restartNow().finally(() => (this.restarting = null));
    return this.restarting;
  }

  private async begin(): Promise<void> {
    const sd = this.opts.systemd;
    const url = resolveHubUrl(this.opts.dataDir, this.opts.hubUrl);
    if (sd?.booted() && isUnitInstalled(await sd.show(HUB_UNIT))) {
      this.mode = 'systemd';
    } else if (url && (await probeHealth(url, this.opts.healthTimeoutMs, this.opts.labCa ?? null)) === 'ready') {
      this.mode = 'external';
      this.healthy = true;
    } else {
      this.mode = 'child';
    }
    if (this.closed) return;
    if (this.mode === 'systemd') this.set('external', SYSTEMD_NOTE);
    else if (this.mode === 'external') this.set('external', `a hub was already running at ${url}; the app watches it but did not start it`);
    else this.spawnChild();
    this.healthTimer = setInterval(() => void this.check(), this.opts.healthIntervalMs ?? 1000);
    void this.check();
  }

  private async restartNow(): Promise<void> {
    if (!this.starting) return this.start();
    await this.starting;
    if (this.mode === 'systemd') {
      this.log.push(note(`systemctl restart ${HUB_UNIT}`));
      await this.opts.systemd!.restart(HUB_UNIT);
      return void this.check();
    }
    if (this.mode === 'external') {
      throw new ContractError('UNSUPPORTED', 'this hub was started outside the app; restart it where it was started');
    }
    this.clearRestartTimer();
    this.policy.reset();
    this.restarts = 0;
    this.set('restarting', 'restarting on request');
    await this.stopChild();
    if (!this.closed) this.spawnChild();
  }

  /** Stops the health checks and the child (SIGTERM, SIGKILL after the grace); leaves a systemd or external hub alone. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.clearRestartTimer();
    await this.stopChild();
    this.set('stopped', null);
    this.listeners.clear();
  }

  private spawnChild(): void {
    this.healthy = false;
    this.failures = 0;
    this.log.push(note(`starting ${this.opts.command.join(' ')}`));
    const child: HubChild = new HubChild(this.opts.command, this.opts.env ?? process.env, {
      onOutput: (text) => this.log.push(text),
      onExit: (code, signal, err) => {
        if (err) this.log.push(note(`could not start ${this.opts.command[0]}: ${err.message}`));
        this.onChildGone(child, code, signal);
      },
    });
    this.child = child;
    this.set('starting', null);
  }

  private onChildGone(child: HubChild, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    this.healthy = false;
    this.exits = [...this.exits, { code, signal, at: new Date().toISOString() }].slice(-MAX_EXITS);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.log.push(note(`hub ${how}`));
    if (this.stopping || this.closed) return;
    const d = this.policy.onCrash(Date.now());
    if (d.action === 'give-up') {
      const codes = this.exits.slice(-d.recentCrashes).map((e) => e.signal ?? String(e.code)).join(', ');
      const secs = Math.round(this.policy.options.windowMs / 1000);
      const last = this.log.lines(8).join('\n');
      this.set('crash-loop', `LabHub stopped ${d.recentCrashes} times within ${secs} s (${codes}); not restarting it until you do. Last output:\n${last}`);
      return;
    }
    this.restarts++;
    this.log.push(note(`restarting in ${d.delayMs} ms`));
    this.set('restarting', `LabHub ${how}; restarting in ${Math.ceil(d.delayMs / 1000)} s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.closed) this.spawnChild();
    }, d.delayMs);
  }

  private async stopChild(): Promise<void> {
    if (!this.child) return;
    this.stopping = true;
    try {
      if (await this.child.stop(this.opts.stopGraceMs ?? 10_000)) this.log.push(note('hub did not stop after SIGTERM; it was killed'));
    } finally {
      this.stopping = false;
    }
  }

  private async check(): Promise<void> {
    if (this.checking || this.closed || (this.mode === 'child' && !this.child)) return; // none: between a crash and its restart
    this.checking = true;
    try {
      if (this.mode === 'systemd') {
        const unit = await this.opts.systemd!.show(HUB_UNIT);
        this.unitPid = unit?.mainPid ?? null;
        this.message = unit && unit.activeState !== 'active' ? `${HUB_UNIT} is ${unit.activeState} (${unit.subState})` : SYSTEMD_NOTE;
      }
      const url = resolveHubUrl(this.opts.dataDir, this.opts.hubUrl);
      const ok = url !== null && (await probeHealth(url, this.opts.healthTimeoutMs, this.opts.labCa ?? null)) === 'ready';
      if (this.closed) return;
      this.failures = ok ? 0 : this.failures + 1;
      if (this.mode === 'child') {
        if (!this.child) return;
        this.healthy = ok;
        if (ok && this.state === 'starting') return this.set('running', null);
      } else {
        this.healthy = ok;
        if (this.mode === 'external' && this.failures >= (this.opts.externalFailures ?? 3)) {
          this.log.push(note(`the hub at ${url} stopped answering; starting our own`));
          this.mode = 'child';
          return this.spawnChild();
        }
      }
      this.emit();
    } finally {
      this.checking = false;
    }
  }

  private set(state: HubState, message: string | null): void {
    if (state !== this.state) this.since = new Date().toISOString();
    this.state = state;
    this.message = message;
    this.emit();
  }

  private emit(): void {
    const s = this.status();
    const key = JSON.stringify(s);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    for (const l of this.listeners) l(s);
  }

  private clearRestartTimer(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }
}
