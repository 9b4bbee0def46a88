/**
 * Memory and CPU limits for the local spawner: puts each server in its own cgroup (or systemd
 * scope) and tells the spawner when the memory limit killed something in it.
 *
 * Placement is race-free: the command is wrapped so that the server process is in its cgroup
 * before it execs (`sh` writes its own pid to `cgroup.procs`, then execs setpriv; or `systemd-run
 * --scope` places itself, then execs). Writing the pid after spawn() would leave a window in which
 * the server could fork a child outside the cgroup. Kernels and terminals inherit the cgroup.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Account } from '../auth/accounts.js';
import type { Logger } from '../log.js';
import { formatLimit, joinCgroupsArgv, systemdRunArgv, type ServerLimits } from '../quota/cgroup-values.js';
import {
  createServerCgroup,
  findSystemdRun,
  limitMechanism,
  parseServerCgroup,
  readOomKills,
  removeServerCgroup,
  systemdScopeCgroup,
  type LimitMechanism,
  type ServerCgroup,
} from '../quota/cgroups.js';
import { readProcStat, signalProcess } from './proc.js';

export interface ServerLimitsOptions {
  /** Memory and CPU limits for a user (from the quota policy); absent = no limits, no cgroup. */
  limitsFor?: (account: Account) => Promise<ServerLimits>;
  /** Defaults to `/sys/fs/cgroup`. */
  cgroupRoot?: string;
  /** Defaults to the detected `limitMechanism()`. */
  mechanism?: () => Promise<LimitMechanism>;
}

/** What a launch needs: the argv to spawn and, for cgroup mechanisms, the cgroup already set up. */
export interface PreparedLaunch {
  argv: string[];
  cgroup: ServerCgroup | null;
  limits: ServerLimits | null;
}

/** The message for a kernel (or other process) the memory limit killed while the server runs. */
export function kernelOomNotice(limits: ServerLimits): string {
  return `Your kernel ran out of memory (limit ${formatLimit(limits.memory)}) and was stopped. Free memory in your notebook (for example, delete large variables) or ask your instructor for a larger limit.`;
}

/** Owns cgroup set-up, OOM counting and cleanup for the local spawner. */
export class ServerLimiter {
  /** OOM kills already reported, per cgroup directory. */
  private readonly seen = new Map<string, number>();
  /** The pid of the server launched into each cgroup directory by this hub process. */
  private readonly owners = new Map<string, number>();

  constructor(private readonly opts: ServerLimitsOptions, private readonly log: Logger) {}

  /** Sets up limits for `account` and wraps `command` (the setpriv argv) accordingly. */
  async prepare(account: Account, command: string[]): Promise<PreparedLaunch> {
    if (!this.opts.limitsFor) return { argv: command, cgroup: null, limits: null };
    const limits = await this.opts.limitsFor(account);
    const mechanism = await (this.opts.mechanism ?? limitMechanism)();
    const log = this.log.child({ user: account.name });
    if (mechanism.inForce === 'not enforced') {
      if (limits.memory || limits.cpus) log.warn({ limits, reason: mechanism.reason }, 'memory/CPU limits are not enforced');
      return { argv: command, cgroup: null, limits };
    }
    if (mechanism.inForce === 'systemd') {
      const systemdRun = await findSystemdRun();
      if (systemdRun) return { argv: systemdRunArgv(systemdRun, account.name, limits, command), cgroup: null, limits };
    }
    const root = this.opts.cgroupRoot ?? '/sys/fs/cgroup';
    const kind = mechanism.inForce === 'cgroup-v2' ? 'cgroup-v2' : 'cgroup-v1';
    let created;
    try {
      created = await createServerCgroup(kind, root, account.name, limits);
    } catch (err) {
      // without limits to enforce, a cgroup is only bookkeeping: start the server anyway
      if (limits.memory || limits.cpus) throw err;
      log.warn({ err }, 'could not create the server cgroup; starting without one (no limits apply)');
      return { argv: command, cgroup: null, limits };
    }
    const { cgroup, procsFiles } = created;
    const base = (await readOomKills(cgroup)) ?? 0;
    for (const d of cgroup.dirs) this.seen.set(d, base);
    log.info({ mechanism: kind, dirs: cgroup.dirs, limits }, 'server cgroup ready');
    return { argv: joinCgroupsArgv(procsFiles, command), cgroup: { ...cgroup, oomBase: base }, limits };
  }

  /** The cgroup to record once the process runs (systemd: read from /proc, as systemd named it). */
  async started(pid: number, prepared: PreparedLaunch): Promise<ServerCgroup | null> {
    for (const d of prepared.cgroup?.dirs ?? []) this.owners.set(d, pid);
    if (prepared.cgroup || !prepared.limits) return prepared.cgroup;
    const mechanism = await (this.opts.mechanism ?? limitMechanism)();
    if (mechanism.inForce !== 'systemd') return null;
    const cg = await systemdScopeCgroup(pid, prepared.limits, this.opts.cgroupRoot);
    const base = (await readOomKills(cg)) ?? 0;
    for (const d of cg.dirs) this.seen.set(d, base);
    return { ...cg, oomBase: base };
  }

  /**
   * New OOM kills since the last call (0 when none or no cgroup). After a hub restart the count
   * starts from the one recorded at launch, so a kill from before the restart is reported once more.
   */
  async newOomKills(state: Record<string, unknown>): Promise<{ kills: number; cgroup: ServerCgroup | null }> {
    const cg = parseServerCgroup(state.cgroup);
    if (!cg || !cg.dirs[0]) return { kills: 0, cgroup: cg };
    const now = await readOomKills(cg);
    if (now === null) return { kills: 0, cgroup: cg };
    const key = cg.dirs[0];
    const before = this.seen.get(key) ?? cg.oomBase;
    this.seen.set(key, now);
    return { kills: Math.max(0, now - before), cgroup: cg };
  }

  /**
   * After the server is gone: kills what is left in its cgroup (orphaned kernels can only be
   * reached through the dead server, so nobody can use them) and removes the cgroup.
   */
  async cleanup(state: Record<string, unknown>): Promise<void> {
    const cg = parseServerCgroup(state.cgroup);
    if (!cg || cg.mechanism === 'systemd') return;
    // an old state of a user whose new server already runs in `labhub/<user>`: leave that one alone
    const owner = cg.dirs[0] ? this.owners.get(cg.dirs[0]) : undefined;
    if (owner !== undefined && owner !== state.pid && (await readProcStat(owner)) !== null) return;
    for (const dir of cg.dirs) {
      this.owners.delete(dir);
      const pids = (await fs.readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
      for (const pid of pids) signalProcess(Number(pid), 'SIGKILL');
      this.seen.delete(dir);
    }
    await removeServerCgroup(cg).catch((err: Error) => this.log.warn({ err, dirs: cg.dirs }, 'could not remove server cgroup'));
  }
}
