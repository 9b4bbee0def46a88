/**
 * The hub's side of the pre-warmed launcher's wire protocol (resources/launcher/labhub_launcher.py):
 * one unix-socket connection per request, a first line naming the operation, JSON replies. Every
 * call has a deadline, so a stuck launcher costs a spawn at most a few seconds before the cold
 * start takes over.
 */
import { connect, type Socket } from 'node:net';

/** What the forked child needs; the launcher looks the user up itself and checks uid/gid. */
export interface LauncherSpawnRequest {
  user: string;
  uid: number;
  gid: number;
  home: string;
  /** The complete environment of the server (buildServerEnv). */
  env: Record<string, string>;
  /** The entry-point script and its arguments: `[script, ...cmd[1:], ...args]`. */
  argv: string[];
  /** The per-user log, created by the hub (root, 0600). */
  logFile: string;
  /** `cgroup.procs` files the child joins as root before it runs any server code. */
  cgroupProcs: string[];
  umask: number;
}

export interface LauncherPing {
  pid: number;
  forks: number;
  rssKb: number;
  app: string;
  python: string;
}

/** Sends `head` (and `body`), resolves with the first reply line parsed as JSON. */
function request(socketPath: string, head: string, body: string | null, timeoutMs: number): Promise<{ reply: Record<string, unknown>; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`no answer from the launcher within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error) {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    }
    socket.setEncoding('utf8');
    socket.once('error', fail);
    socket.once('connect', () => socket.write(body === null ? `${head}\n` : `${head}\n${body}\n`));
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeAllListeners('end');
      socket.removeAllListeners('error');
      // later errors (the child gone before `go`) are the caller's business, never an uncaught one
      socket.on('error', () => undefined);
      socket.pause();
      try {
        resolve({ reply: JSON.parse(buf.slice(0, nl)) as Record<string, unknown>, socket });
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.once('end', () => fail(new Error('the launcher closed the connection without an answer')));
  });
}

export async function pingLauncher(socketPath: string, timeoutMs: number): Promise<LauncherPing> {
  const { reply, socket } = await request(socketPath, 'ping', null, timeoutMs);
  socket.destroy();
  if (reply.ok !== true) throw new Error(`launcher ping failed: ${String(reply.error)}`);
  return reply as unknown as LauncherPing;
}

/** How a child of the launcher ended, when the launcher that forked it has reaped it; else null. */
export async function launcherExitStatus(
  socketPath: string,
  pid: number,
  startTime: number,
  timeoutMs: number,
): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null } | null> {
  const { reply, socket } = await request(socketPath, `exit ${pid} ${startTime}`, null, timeoutMs);
  socket.destroy();
  if (reply.known !== true) return null;
  return { exitCode: typeof reply.exitCode === 'number' ? reply.exitCode : null, signal: (reply.signal as NodeJS.Signals | null) ?? null };
}

/** A forked server that waits for the hub's word: `go` lets it run, `abort` makes it exit. */
export interface PendingChild {
  pid: number;
  go(): Promise<void>;
  abort(): void;
}

/**
 * Asks the launcher for a server. Resolves once the child has switched to the user and reported
 * its pid (it then waits for `go`); rejects with the launcher's reason when it could not.
 */
export async function requestSpawn(socketPath: string, req: LauncherSpawnRequest, timeoutMs: number): Promise<PendingChild> {
  const { reply, socket } = await request(socketPath, 'spawn', JSON.stringify(req), timeoutMs);
  if (typeof reply.pid !== 'number' || !Number.isSafeInteger(reply.pid) || reply.pid <= 1) {
    socket.destroy();
    throw new Error(typeof reply.error === 'string' ? reply.error : 'the launcher gave no pid');
  }
  return {
    pid: reply.pid,
    go: () =>
      new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.end('go\n', () => {
          socket.destroy();
          resolve();
        });
      }),
    // closing without `go` makes the child exit before it runs any server code
    abort: () => socket.destroy(),
  };
}
