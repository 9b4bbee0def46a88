/**
 * `labhub image build [--force]`: builds the Docker spawner's single-user image from
 * resources/images/singleuser/recipe.json (see image.ts), or says it is up to date.
 * `labhub image status` says whether the image is there and built from the current recipe.
 */
import { buildImage, loadRecipe, localImageRecipe } from './image.js';

const USAGE = 'usage: labhub image build [--force] | labhub image status';

/** Runs the command; returns the exit code (0 ok, 1 failed, 2 usage). Output goes to stdout/stderr. */
export async function runImageCommand(rest: string[], o: { force: boolean }): Promise<number> {
  const [sub, ...extra] = rest;
  if ((sub !== 'build' && sub !== 'status') || extra.length) {
    process.stderr.write(`labhub: ${USAGE}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('labhub: image commands need root (they talk to the Docker daemon)\n');
    return 1;
  }
  try {
    const recipe = loadRecipe();
    if (sub === 'status') {
      const label = await localImageRecipe(recipe.image);
      const state = label === null ? 'missing' : label === recipe.hash ? 'up to date' : 'built from an older recipe';
      process.stdout.write(`${recipe.image}: ${state} (recipe ${recipe.hash.slice(0, 12)})\n`);
      return label === recipe.hash ? 0 : 1;
    }
    const current = !o.force && (await localImageRecipe(recipe.image)) === recipe.hash;
    if (!current) process.stdout.write(`labhub: building ${recipe.image} from ${recipe.file} (a few minutes)\n`);
    const result = await buildImage({ recipe, force: o.force, onOutput: (line) => process.stdout.write(`  ${line}\n`) });
    process.stdout.write(
      result.built
        ? `labhub: built ${result.image} (recipe ${result.hash.slice(0, 12)}) in ${result.seconds.toFixed(0)} s\n`
        : `labhub: ${result.image} is up to date (recipe ${result.hash.slice(0, 12)}); --force rebuilds it\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`labhub: ${(err as Error).message}\n`);
    return 1;
  }
}
