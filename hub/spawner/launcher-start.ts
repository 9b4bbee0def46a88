/**
 * A warm start: asks the pre-warmed launcher to fork the server that `local.ts` has prepared
 * (environment, log, cgroups), checks that the child runs as the student, and lets it go. Any
 * problem is an answer, not an error: the local spawner then starts the same server cold.
 */
import type { Account } from '../auth/accounts.js';
import type { Logger } from '../log.js';
import { cgroupProcsOf, entryPointProblem } from './launcher-eligibility.js';
import type { PrewarmedLauncher } from './launcher.js';
import { currentUmask, processIds } from './launcher-proc.js';
import { readProcStat } from './proc.js';
import type { PreparedLaunch } from './server-limits.js';
import type { StartOptions } from './types.js';

/** Everything a start has prepared before it launches, warm or cold. */
export interface LaunchPlan {
  account: Account;
  env: Record<string, string>;
  /** The resolved executable and its arguments. */
  argv: string[];
  logFile: string;
  launch: PreparedLaunch;
  /** The setpriv argv that `launch` wraps. */
  command: string[];
  onProgress: StartOptions['onProgress'];
  log: Logger;
}

/**
 * Asks the launcher for the server. Resolves with the pid and start time of a child that already
 * runs as the user, or with the reason the spawn must start cold; never throws and never waits
 * longer than the launcher's request timeout.
 */
export async function startWarm(launcher: PrewarmedLauncher, w: LaunchPlan): Promise<{ pid: number; startTime: number } | { coldBecause: string }> {
  const down = launcher.unavailable();
  if (down) return { coldBecause: down };
  const problem = await entryPointProblem(w.argv[0]!, launcher.python);
  if (problem) return { coldBecause: problem };
  const cg = cgroupProcsOf(w.launch, w.command);
  if ('problem' in cg) return { coldBecause: cg.problem };
  w.onProgress({ progress: 20, message: 'Starting your server process (pre-warmed)' });
  let child;
  try {
    child = await launcher.spawn({
      user: w.account.name,
      uid: w.account.uid,
      gid: w.account.gid,
      home: w.account.home,
      env: w.env,
      argv: w.argv,
      logFile: w.logFile,
      cgroupProcs: cg.procs,
      umask: await currentUmask(),
    });
  } catch (err) {
    w.log.warn({ err }, 'the pre-warmed launcher could not start the server');
    return { coldBecause: `the launcher could not start it: ${(err as Error).message}` };
  }
  const stat = await readProcStat(child.pid);
  const ids = await processIds(child.pid);
  if (!stat || stat.state === 'Z' || !ids || ids.uid !== w.account.uid || ids.gid !== w.account.gid) {
    child.abort();
    return { coldBecause: `the launcher's process ${child.pid} is gone or does not run as ${w.account.name}` };
  }
  try {
    await child.go();
  } catch (err) {
    return { coldBecause: `the launcher's process ${child.pid} did not take the go-ahead: ${(err as Error).message}` };
  }
  return { pid: child.pid, startTime: stat.startTime };
}
