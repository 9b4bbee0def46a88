/**
 * What the Docker spawner's tests need on any machine, CI's fresh one included: a running dockerd
 * (scripts/docker-up.sh installs docker.io if missing and starts it in the background when systemd
 * is not PID 1) and the single-user image, built with the real `labhub image build` when no image
 * with the current recipe's hash is there (a few minutes once; then cached by that label).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LABHUB_MAIN } from './labhub-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long a beforeAll that may build the image is allowed (the build takes 2–5 minutes). */
export const IMAGE_BUILD_TIMEOUT_MS = 12 * 60_000;

/** The image the recipe names (`labhub/singleuser:latest`). */
export const TEST_IMAGE = 'labhub/singleuser:latest';

/** Makes sure dockerd answers and the image is built from the current recipe. */
export function ensureDockerAndImage(): void {
  execFileSync('bash', [`${ROOT}scripts/docker-up.sh`], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 5 * 60_000 });
  const out = spawnSync(process.execPath, [LABHUB_MAIN, 'image', 'build'], { encoding: 'utf8', timeout: IMAGE_BUILD_TIMEOUT_MS - 60_000 });
  if (out.status !== 0) throw new Error(`labhub image build failed (${out.status ?? out.signal}):\n${out.stdout}\n${out.stderr}`);
}

/** `docker …` with argv, output as text; throws with Docker's message on failure. */
export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** `docker inspect` of one container as JSON (null when there is none). */
export function inspectContainer(nameOrId: string): any | null {
  const r = spawnSync('docker', ['inspect', nameOrId], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return (JSON.parse(r.stdout) as any[])[0] ?? null;
}

/** Ids of the containers (running or not) labelled for this user. */
export function containersOfUser(user: string): string[] {
  const out = docker('ps', '-a', '-q', '--no-trunc', '--filter', `label=org.labhub.user=${user}`);
  return out ? out.split('\n') : [];
}

/** Removes every container of these test users (afterAll, also after a failure). */
export function removeUserContainers(users: string[]): void {
  for (const user of users) {
    if (!user.startsWith('lhtest')) throw new Error(`refusing to touch containers of ${user}`);
    for (const id of containersOfUser(user)) spawnSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
  }
}
