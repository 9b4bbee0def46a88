/**
 * The hub's REST API as the integration tests call it: JSON in, `token` auth, and a student's own
 * API token got with their password (POST /hub/api/users/:name/tokens with `auth`).
 */
import { expect } from 'vitest';
import type { TestUser } from './linux-users.js';

export interface ApiInit {
  method?: string;
  token?: string;
  body?: unknown;
}

/** `base` is read at each call, so it may name a hub that starts after this is made. */
export function hubApi(base: () => string) {
  const api = (path: string, init: ApiInit = {}) =>
    fetch(`${base()}/hub/api${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token ? { Authorization: `token ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  const tokenFor = async (user: TestUser): Promise<string> => {
    const res = await api(`/users/${user.name}/tokens`, { method: 'POST', body: { auth: { username: user.name, password: user.password } } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  };

  return { api, tokenFor };
}
