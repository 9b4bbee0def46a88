/**
 * The installed services: where the installer has put LabHub under systemd, the app only watches
 * `labhub.service` and restarts it through systemctl (privileged); it never runs a second hub
 * beside it. Only meaningful when systemd is PID 1, which is not the case on this build machine,
 * so the supervisor's systemd mode is tested with a fake `SystemdControl`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { runPrivileged } from './privileged.js';

/** The hub's unit (the proxy's, `labhub-proxy.service`, is left running across hub restarts). */
export const HUB_UNIT = 'labhub.service';
export const PROXY_UNIT = 'labhub-proxy.service';

export interface UnitState {
  loadState: string;
  activeState: string;
  subState: string;
  mainPid: number | null;
}

/** What the supervisor needs of systemd. */
export interface SystemdControl {
  /** True when systemd is PID 1 (so systemctl can answer). */
  booted(): boolean;
  /** The unit's state, or null when systemctl cannot say. */
  show(unit: string): Promise<UnitState | null>;
  restart(unit: string): Promise<void>;
}

/** sd_booted(3)'s test (`/run/systemd/system` exists), with /proc/1/comm as a second opinion. */
export function isSystemdBooted(exists: (p: string) => boolean = existsSync, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): boolean {
  if (exists('/run/systemd/system')) return true;
  try {
    return read('/proc/1/comm').trim() === 'systemd';
  } catch {
    return false;
  }
}

/** Parses `systemctl show -p A,B` output (`Key=Value` lines). */
export function parseSystemctlShow(text: string): UnitState {
  const v: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) v[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  const pid = Number(v.MainPID);
  return {
    loadState: v.LoadState ?? 'unknown',
    activeState: v.ActiveState ?? 'unknown',
    subState: v.SubState ?? 'unknown',
    mainPid: Number.isInteger(pid) && pid > 0 ? pid : null,
  };
}

/** True when the installer has put the unit in place (`LoadState=loaded`; `not-found` otherwise). */
export function isUnitInstalled(state: UnitState | null): boolean {
  return state !== null && state.loadState === 'loaded';
}

/** The real systemctl: `show` unprivileged, `restart` through privileged.ts. */
export function createSystemdControl(): SystemdControl {
  return {
    booted: () => isSystemdBooted(),
    show: (unit) =>
      new Promise((resolve) => {
        execFile('systemctl', ['show', unit, '-p', 'LoadState,ActiveState,SubState,MainPID'], { timeout: 10_000 }, (err, stdout) => {
          resolve(err ? null : parseSystemctlShow(stdout));
        });
      }),
    restart: async (unit) => {
      await runPrivileged(['systemctl', 'restart', unit], { timeoutMs: 120_000 });
    },
  };
}
