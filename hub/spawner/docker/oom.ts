/**
 * Counting the memory limit's kills inside a container from its cgroup, as the local spawner does
 * for its own cgroups: Docker reports `OOMKilled` only when the container ends, but a kernel killed
 * while the server keeps running must be reported too.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseOomKills } from '../../quota/cgroup-values.js';

/** The file counting OOM kills in the cgroup of a process (host view of /proc/<pid>/cgroup). */
export async function oomFileOf(pid: number, root = '/sys/fs/cgroup'): Promise<string | null> {
  const text = await fs.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(\/.*)$/m.exec(text);
  if (v1) return join(root, 'memory', v1[1]!, 'memory.oom_control');
  const v2 = /^0::(\/.*)$/m.exec(text);
  if (!v2) return null;
  const unified = (await fs.access(join(root, 'cgroup.controllers')).then(() => true, () => false)) ? root : join(root, 'unified');
  return join(unified, v2[1]!, 'memory.events');
}

/** The kill count in a memory.oom_control / memory.events file; null when it cannot be read. */
export async function readOomKills(file: string): Promise<number | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  return text === null ? null : parseOomKills(text);
}
