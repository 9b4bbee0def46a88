// Makes the compiled CLI entry point executable so `npx labhub` and the bin link work from a checkout.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/hub/main.js', import.meta.url), 0o755);
