// Runs the LabHub proxy (compiled, dist/) for a benchmark in its own process, with a route "/"
// to the backend given as argv[2]. Prints {"port", "apiPort"} on stdout once listening.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../dist/hub/proxy/server.js', import.meta.url);
const { createProxy } = await import(root.href);
const { createLogger } = await import(new URL('../../dist/hub/log.js', import.meta.url).href);
const target = process.argv[2];
const dataDir = mkdtempSync(join(tmpdir(), 'labhub-bench-'));
// info level, as in production: 2xx access lines are debug, so they cost nothing
const logger = createLogger({ name: 'proxy', level: 'info' });
const proxy = createProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, dataDir, token: 'bench', logger, defaultTarget: target, closeGraceMs: 100 });
await proxy.listen();
process.stdout.write(JSON.stringify({ port: proxy.publicAddress().port, apiPort: proxy.apiAddress().port }) + '\n');
process.on('SIGTERM', () => proxy.close().then(() => process.exit(0)));
