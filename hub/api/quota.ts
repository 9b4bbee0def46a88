/**
 * The quota REST API (docs/admin-api.md, "Quotas"): the admin's view of the modes in force, the
 * policy and everyone's usage, edits of defaults and per-user/per-group overrides, an on-demand
 * scan; and each student's own figure (`GET /hub/api/users/:name/quota`, owner or admin).
 */
import express, { type Router } from 'express';
import { isValidUserName } from '../auth/accounts.js';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import { limitMechanism } from '../quota/cgroups.js';
import { LIMIT_KEYS, type LimitKey, type PartialLimits } from '../quota/policy.js';
import type { QuotaService, UserQuota } from '../quota/service.js';
import { parseSize } from '../quota/size.js';
import type { Store } from '../store/store.js';
import { apiIdentity, jsonBody, requireAdmin, requireScope, userParam } from './access.js';

export interface QuotaRouterOptions {
  config: Readonly<Config>;
  store: Store;
  identity: IdentityResolver;
  quota: QuotaService;
  log: Logger;
}

/** A patch from a PUT body: a number (bytes / cores) sets, null clears; problems name each bad field. */
export function parseLimitsPatch(body: unknown): { patch: Partial<Record<LimitKey, number | null>>; problems: Array<{ field: string; message: string }> } {
  const patch: Partial<Record<LimitKey, number | null>> = {};
  const problems: Array<{ field: string; message: string }> = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { patch, problems: [{ field: '', message: 'the body must be a JSON object' }] };
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    if (!(LIMIT_KEYS as readonly string[]).includes(field)) {
      problems.push({ field, message: `unknown field; allowed: ${LIMIT_KEYS.join(', ')}` });
      continue;
    }
    const key = field as LimitKey;
    if (value === null) {
      patch[key] = null;
    } else if (key === 'cpus') {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1024) problems.push({ field, message: 'must be a number of cores from 0 to 1024 (0 = no limit)' });
      else patch[key] = n;
    } else {
      const bytes = typeof value === 'string' || typeof value === 'number' ? parseSize(value) : null;
      if (bytes === null) problems.push({ field, message: 'must be a size such as "500M" or "5G", or bytes (0 = no limit)' });
      else patch[key] = bytes;
    }
  }
  return { patch, problems };
}

/** Applies a patch to a saved entry (null removes the field). */
function applyPatch(entry: PartialLimits, patch: Partial<Record<LimitKey, number | null>>): PartialLimits {
  const out: PartialLimits = { ...entry };
  for (const [k, v] of Object.entries(patch) as Array<[LimitKey, number | null]>) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

const GROUP_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function usageRow(q: UserQuota) {
  return { user: q.user, bytes: q.usage?.bytes ?? null, measuredAt: q.usage?.measuredAt ?? null, limits: q.limits, sources: q.sources, state: q.state, percent: q.percent };
}

export function quotaRouter(o: QuotaRouterOptions): Router {
  const r = express.Router();
  const admin = (req: express.Request) => requireAdmin(req, o.identity);
  const saved = () => o.store.data.quota;

  const model = async () => {
    const mode = o.quota.diskMode();
    const memory =
      o.config.spawner.kind === 'docker'
        ? { inForce: 'docker', reason: "each server is a container: Docker applies the memory and CPU limits (--memory, --cpus) and reports a kill by the memory limit" }
        : await limitMechanism().catch((err: Error) => ({ inForce: 'not enforced', reason: `detection failed: ${err.message}` }));
    const policy = o.quota.policy();
    const defaults = { diskSoft: 0, diskHard: 0, memory: 0, cpus: 0, ...policy.defaults };
    return {
      disk: {
        configured: o.config.quota.diskMode,
        inForce: mode.inForce,
        reason: mode.reason,
        filesystem: mode.filesystem ? `${mode.filesystem.type} on ${mode.filesystem.source} (${mode.filesystem.mount})` : null,
      },
      memory: { inForce: memory.inForce, reason: memory.reason },
      defaults,
      defaultsSaved: Object.keys(saved().defaults),
      groups: policy.groups,
      users: policy.users,
      usage: (await o.quota.all()).map(usageRow),
    };
  };

  r.get('/hub/api/labhub/quota', async (req, res) => {
    admin(req);
    res.json(await model());
  });

  const patchFrom = (req: express.Request) => {
    const { patch, problems } = parseLimitsPatch(req.body);
    if (problems.length) throw new HubError('HUB_ERR_BAD_REQUEST', 'Invalid limits; nothing was changed', { problems });
    return patch;
  };
  const commitAndApply = async (users?: string[]) => {
    await o.store.commit();
    const problems = await o.quota.applyKernelLimits(users);
    return problems;
  };

  r.put('/hub/api/labhub/quota/defaults', jsonBody, async (req, res) => {
    const id = admin(req);
    const patch = patchFrom(req);
    saved().defaults = applyPatch(saved().defaults, patch);
    const kernelProblems = await commitAndApply();
    o.log.info({ by: id.user, patch }, 'quota defaults changed');
    res.json({ defaults: { diskSoft: 0, diskHard: 0, memory: 0, cpus: 0, ...o.quota.policy().defaults }, kernelProblems });
  });

  r.put('/hub/api/labhub/quota/users/:name', jsonBody, async (req, res) => {
    const id = admin(req);
    const name = userParam(req);
    const patch = patchFrom(req);
    const entry = applyPatch(saved().users[name] ?? {}, patch);
    if (Object.keys(entry).length) saved().users[name] = entry;
    else delete saved().users[name];
    const kernelProblems = await commitAndApply([name]);
    o.log.info({ by: id.user, user: name, patch }, 'quota override changed');
    res.json({ ...usageRow(await o.quota.forUser(name)), override: o.quota.policy().users[name] ?? {}, kernelProblems });
  });

  r.delete('/hub/api/labhub/quota/users/:name', async (req, res) => {
    const id = admin(req);
    const name = userParam(req);
    delete saved().users[name];
    const kernelProblems = await commitAndApply([name]);
    o.log.info({ by: id.user, user: name }, 'quota override removed');
    res.json({ ...usageRow(await o.quota.forUser(name)), override: o.quota.policy().users[name] ?? {}, kernelProblems });
  });

  const groupParam = (req: express.Request) => {
    const g = String(req.params.group ?? '');
    if (!GROUP_NAME.test(g)) throw new HubError('HUB_ERR_BAD_REQUEST', 'Invalid group name', { problems: [{ field: 'group', message: 'must be a Linux group name' }] });
    return g;
  };

  r.put('/hub/api/labhub/quota/groups/:group', jsonBody, async (req, res) => {
    const id = admin(req);
    const group = groupParam(req);
    const patch = patchFrom(req);
    const entry = applyPatch(saved().groups[group] ?? {}, patch);
    if (Object.keys(entry).length) saved().groups[group] = entry;
    else delete saved().groups[group];
    const kernelProblems = await commitAndApply();
    o.log.info({ by: id.user, group, patch }, 'quota group override changed');
    res.json({ group, override: o.quota.policy().groups[group] ?? {}, kernelProblems });
  });

  r.delete('/hub/api/labhub/quota/groups/:group', async (req, res) => {
    const id = admin(req);
    const group = groupParam(req);
    delete saved().groups[group];
    const kernelProblems = await commitAndApply();
    o.log.info({ by: id.user, group }, 'quota group override removed');
    res.json({ group, override: o.quota.policy().groups[group] ?? {}, kernelProblems });
  });

  r.post('/hub/api/labhub/quota/scan', (req, res) => {
    admin(req);
    void o.quota.scan().catch((err: unknown) => o.log.warn({ err }, 'quota scan failed'));
    res.status(202).json({ started: true });
  });

  r.get('/hub/api/users/:name/quota', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    if (id.user !== name) requireScope(id, ['admin:users'], name, o.store);
    if (!o.store.data.users[name] || !isValidUserName(name)) throw new HubError('HUB_ERR_NOT_FOUND');
    const q = await o.quota.forUser(name);
    res.json({ limits: q.limits, sources: q.sources, usage: q.usage, state: q.state, percent: q.percent, message: q.message, cleanup: q.cleanup, mode: o.quota.diskMode().inForce });
  });

  return r;
}
