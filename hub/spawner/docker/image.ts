/**
 * The single-user image, built on this machine from Debian packages: `mmdebstrap` makes a
 * bookworm root filesystem with the packages of `resources/images/singleuser/recipe.json` and
 * writes it as a tar to stdout, which `docker import` turns into the image. No registry is
 * involved, and nothing is ever pulled at spawn time.
 *
 * The image carries the recipe's SHA-256 as the label `org.labhub.recipe`, so "is the image up to
 * date" is one `docker image inspect`; a changed recipe means a rebuild.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod/v3';

/** Label holding the recipe hash an image was built from. */
export const RECIPE_LABEL = 'org.labhub.recipe';
/** The command an admin runs to build the image; named in every "image missing" message. */
export const BUILD_COMMAND = 'labhub image build';

const recipeSchema = z
  .object({
    comment: z.string().optional(),
    image: z.string().regex(/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?$/, 'must be an image name such as labhub/singleuser:latest'),
    suite: z.string().regex(/^[a-z]+$/),
    variant: z.enum(['essential', 'apt', 'minbase', 'required']),
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/, 'must be a Debian package name')).min(1),
    pathExcludes: z.array(z.string().regex(/^\/[^\s]*$/)).default([]),
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string().regex(/^[^\n]*$/)).default({}),
    cmd: z.array(z.string().min(1)).min(1),
  })
  .strict();

export type ImageRecipe = z.infer<typeof recipeSchema> & { hash: string; file: string };

const RECIPE_PATH = 'resources/images/singleuser/recipe.json';

/** The recipe shipped with LabHub, found above this module (it runs from `hub/` in tests and `dist/hub/` built). */
export function defaultRecipeFile(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, RECIPE_PATH))) return join(dir, RECIPE_PATH);
    if (dirname(dir) === dir) throw new Error(`${RECIPE_PATH} not found above ${fileURLToPath(import.meta.url)}`);
  }
}

/** Reads and validates a recipe; its hash is the SHA-256 of the file's bytes. */
export function loadRecipe(file = defaultRecipeFile()): ImageRecipe {
  const bytes = readFileSync(file);
  const parsed = recipeSchema.parse(JSON.parse(bytes.toString('utf8')));
  return { ...parsed, hash: createHash('sha256').update(bytes).digest('hex'), file };
}

/** One apt source line per suite, from the host's own apt sources (so its mirror and proxy are used). */
export function mirrorLines(suite: string, sourcesText: string): string[] {
  const uris = new Set<string>();
  for (const m of sourcesText.matchAll(/^\s*URIs:\s*(\S+)/gim)) uris.add(m[1]!);
  for (const m of sourcesText.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm)) uris.add(m[1]!);
  const main = [...uris].find((u) => /\/debian\/?$/.test(u)) ?? 'http://deb.debian.org/debian';
  const security = [...uris].find((u) => /debian-security\/?$/.test(u));
  const lines = [`deb ${main} ${suite} main`, `deb ${main} ${suite}-updates main`];
  if (security) lines.push(`deb ${security} ${suite}-security main`);
  return lines;
}

function readHostSources(): string {
  const files = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/debian.sources'];
  return files.map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  }).join('\n');
}

/** apt options of the host that the build must keep: proxies and snapshot-mirror date checks. */
export function hostAptOptions(aptConfigDump: string): string[] {
  const out: string[] = [];
  for (const line of aptConfigDump.split('\n')) {
    const m = /^(Acquire::(?:https?::Proxy(?:::[^ ]+)?|Check-Valid-Until|Check-Date)) "([^"]*)";$/.exec(line.trim());
    if (m) out.push(`${m[1]} "${m[2]}"`);
  }
  return out;
}

/** The two argv arrays of the build pipeline (no shell): mmdebstrap … | docker import …. */
export function buildCommands(recipe: ImageRecipe, o: { mirrors: string[]; aptOptions: string[]; docker?: string }): { mmdebstrap: string[]; dockerImport: string[] } {
  const mmdebstrap = [
    'mmdebstrap',
    '--quiet',
    `--variant=${recipe.variant}`,
    `--include=${recipe.packages.join(',')}`,
    ...o.aptOptions.map((opt) => `--aptopt=${opt}`),
    ...recipe.pathExcludes.map((p) => `--dpkgopt=path-exclude=${p}`),
    recipe.suite,
    '-',
    ...o.mirrors,
  ];
  const changes = [
    ...Object.entries(recipe.env).map(([k, v]) => `ENV ${k}=${v}`),
    `CMD ${JSON.stringify(recipe.cmd)}`,
    `LABEL ${RECIPE_LABEL}=${recipe.hash}`,
  ];
  const dockerImport = [o.docker ?? 'docker', 'import', ...changes.flatMap((c) => ['--change', c]), '-', recipe.image];
  return { mmdebstrap, dockerImport };
}

function run(argv: string[], input?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d));
    child.stderr?.on('data', (d: Buffer) => (out += d));
    child.once('error', (err) => resolve({ code: null, out: err.message }));
    child.once('close', (code) => resolve({ code, out }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The recipe hash label of a local image, `null` when the image is not there. Throws when Docker cannot be asked. */
export async function localImageRecipe(image: string, docker = 'docker'): Promise<string | null> {
  const r = await run([docker, 'image', 'inspect', '--format', `{{index .Config.Labels "${RECIPE_LABEL}"}}`, image]);
  if (r.code === 0) return r.out.trim();
  if (/no such image/i.test(r.out)) return null;
  throw new Error(`docker image inspect failed: ${r.out.trim() || `exit ${r.code}`}`);
}

export interface BuildResult {
  image: string;
  hash: string;
  /** false when an image with this recipe's hash was already there. */
  built: boolean;
  seconds: number;
}

/**
 * Builds the image unless one with the same recipe hash exists (`force` rebuilds anyway).
 * `onOutput` receives mmdebstrap's and docker's progress lines.
 */
export async function buildImage(o: { recipe?: ImageRecipe; force?: boolean; onOutput?: (line: string) => void; docker?: string } = {}): Promise<BuildResult> {
  const recipe = o.recipe ?? loadRecipe();
  const t0 = Date.now();
  const docker = o.docker ?? 'docker';
  if (!o.force && (await localImageRecipe(recipe.image, docker)) === recipe.hash) {
    return { image: recipe.image, hash: recipe.hash, built: false, seconds: 0 };
  }
  const dump = await run(['apt-config', 'dump']);
  const { mmdebstrap, dockerImport } = buildCommands(recipe, {
    mirrors: mirrorLines(recipe.suite, readHostSources()),
    aptOptions: hostAptOptions(dump.code === 0 ? dump.out : ''),
    docker,
  });
  const say = o.onOutput ?? (() => undefined);
  say(`$ ${mmdebstrap.join(' ')} | ${dockerImport.join(' ')}`);
  await new Promise<void>((resolve, reject) => {
    const [mmCmd, ...mmArgs] = mmdebstrap as [string, ...string[]];
    const [dCmd, ...dArgs] = dockerImport as [string, ...string[]];
    const mm = spawn(mmCmd, mmArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    const imp = spawn(dCmd, dArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    mm.stdout.pipe(imp.stdin);
    const tail: string[] = [];
    const lines = (d: Buffer) => {
      for (const l of d.toString().split('\n')) {
        if (!l.trim()) continue;
        say(l);
        tail.push(l);
        if (tail.length > 20) tail.shift();
      }
    };
    mm.stderr.on('data', lines);
    imp.stdout.on('data', lines);
    imp.stderr.on('data', lines);
    let mmCode: number | null | undefined;
    let impCode: number | null | undefined;
    const done = () => {
      if (mmCode === undefined || impCode === undefined) return;
      if (mmCode === 0 && impCode === 0) resolve();
      else reject(new Error(`image build failed (mmdebstrap exit ${mmCode}, docker import exit ${impCode}):\n${tail.join('\n')}`));
    };
    mm.once('error', (err) => reject(new Error(`cannot run mmdebstrap (apt-get install mmdebstrap): ${err.message}`)));
    imp.once('error', (err) => reject(new Error(`cannot run docker (apt-get install docker.io): ${err.message}`)));
    mm.once('close', (code) => {
      mmCode = code;
      if (code !== 0) imp.stdin.destroy();
      done();
    });
    imp.once('close', (code) => {
      impCode = code;
      done();
    });
  });
  return { image: recipe.image, hash: recipe.hash, built: true, seconds: (Date.now() - t0) / 1000 };
}
