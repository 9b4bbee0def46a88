/**
 * Copies running containers' output (stdout and stderr) into the students' log files
 * (`<logDir>/users/<name>.log`) as it comes, so the admin's Logs view shows a container's output
 * as it does a local server's. One Docker log stream per followed container; `close` ends them all
 * (they hold connections to the daemon).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type Docker from 'dockerode';
import { openUserLog } from '../user-log.js';

interface Follow {
  stream: NodeJS.ReadableStream & { destroy?: () => void };
  file: WriteStream;
  ended: Promise<void>;
}

export class LogFollower {
  private readonly follows = new Map<string, Follow>();

  constructor(private readonly docker: Docker, private readonly logDir: string) {}

  has(id: string): boolean {
    return this.follows.has(id);
  }

  /** Follows container `id` of `user` from `since` (Unix seconds; 0 = its whole output). */
  async follow(user: string, id: string, name: string, since: number): Promise<void> {
    if (this.follows.has(id)) return;
    const { file: handle, path } = await openUserLog(this.logDir, user, `[labhub] ${new Date().toISOString()} output of container ${name} (${id.slice(0, 12)}):`);
    await handle.close();
    const stream = (await this.docker.getContainer(id).logs({ follow: true, stdout: true, stderr: true, since })) as Follow['stream'];
    const file = createWriteStream(path, { flags: 'a' });
    file.on('error', () => undefined);
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    this.docker.modem.demuxStream(stream, file, file);
    this.follows.set(id, { stream, file, ended });
    void ended.then(() => this.stop(id));
  }

  /** After the container ended: waits (briefly) for its last lines, then closes the file. */
  async finish(id: string, waitMs = 2000): Promise<void> {
    const f = this.follows.get(id);
    if (!f) return;
    await Promise.race([f.ended, new Promise((r) => setTimeout(r, waitMs))]);
    this.stop(id);
  }

  private stop(id: string): void {
    const f = this.follows.get(id);
    if (!f) return;
    this.follows.delete(id);
    f.stream.destroy?.();
    f.file.end();
  }

  close(): void {
    for (const id of [...this.follows.keys()]) this.stop(id);
  }
}
