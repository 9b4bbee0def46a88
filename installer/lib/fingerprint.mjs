// Prints a hash of what the proxy runs: the static import closure of dist/hub/proxy/run.js (relative
// imports; packages by name@version), the Node binary's version, and the config values the proxy
// reads. install.sh restarts the proxy on an upgrade only when this changes.
//   node fingerprint.mjs PREFIX CONFIG
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const [prefix, configFile] = process.argv.slice(2);
const hash = createHash('sha256');
hash.update(`node ${process.version}\n`);

const seen = new Set();
const packages = new Set();
const importRe = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;
const walk = (file) => {
  if (seen.has(file) || !existsSync(file)) return;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  hash.update(`${file.slice(prefix.length)}\n`).update(text);
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
    else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
  }
};
walk(join(prefix, 'dist/hub/proxy/run.js'));
for (const name of [...packages].sort()) {
  const pkg = join(prefix, 'node_modules', name, 'package.json');
  hash.update(`${name}@${existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')).version : '?'}\n`);
}

const { loadConfig } = await import(join(prefix, 'dist/hub/config.js'));
const c = loadConfig(existsSync(configFile) ? { config: configFile } : {});
hash.update(JSON.stringify({ ip: c.ip, port: c.port, proxy: c.proxy, hub: c.hub, dataDir: c.dataDir, logDir: c.logDir, logLevel: c.logLevel }));
process.stdout.write(`${hash.digest('hex')}\n`);
