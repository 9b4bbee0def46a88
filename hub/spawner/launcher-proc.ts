/**
 * Small /proc readers the launcher path needs: the hub's umask (handed to forked servers, which do
 * not inherit it through an exec) and who a process runs as (checked before a forked server is
 * allowed to run). See proc(5).
 */
import { readFile } from 'node:fs/promises';

/** The field `name:` of /proc/<pid>/status, split on whitespace; null when unreadable. */
async function statusField(pid: number | 'self', name: string): Promise<string[] | null> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? line.slice(name.length + 1).trim().split(/\s+/).filter(Boolean) : null;
  } catch {
    return null;
  }
}

/** This process's umask (022 in the hub), read without changing it. */
export async function currentUmask(): Promise<number> {
  const field = await statusField('self', 'Umask');
  const value = field?.[0] ? parseInt(field[0], 8) : NaN;
  return Number.isInteger(value) ? value : 0o022;
}

/** Real, effective, saved and filesystem uid and gid agree, and are these; null when unreadable. */
export async function processIds(pid: number): Promise<{ uid: number; gid: number; groups: number[] } | null> {
  const [uids, gids, groups] = await Promise.all([statusField(pid, 'Uid'), statusField(pid, 'Gid'), statusField(pid, 'Groups')]);
  if (!uids || !gids) return null;
  const one = (ids: string[]) => (new Set(ids).size === 1 ? Number(ids[0]) : NaN);
  const uid = one(uids);
  const gid = one(gids);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  return { uid, gid, groups: (groups ?? []).map(Number) };
}
