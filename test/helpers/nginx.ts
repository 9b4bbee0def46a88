/**
 * A real Debian nginx in front of LabHub for tests, as README "HTTPS → Behind nginx" configures
 * it: TLS termination with websocket upgrade headers, plus a plain-http server that redirects.
 * Started in the foreground (`daemon off`) with a config in a temp dir, on the ports given.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './tls-lab.js';

export interface NginxOptions {
  httpsPort: number;
  httpPort: number;
  cert: string;
  key: string;
  /** Where LabHub's proxy listens, e.g. `127.0.0.1:8000`. */
  upstream: string;
}

export interface Nginx {
  dir: string;
  close(): Promise<void>;
  errors(): string;
}

/** The nginx.conf of the test: the README's server blocks, with test paths and ports. */
export function nginxConfig(dir: string, o: NginxOptions): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
user root root;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;

  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }

  server {
    listen 127.0.0.1:${o.httpPort};
    return 301 https://$host:${o.httpsPort}$request_uri;
  }

  server {
    listen 127.0.0.1:${o.httpsPort} ssl;
    ssl_certificate     ${o.cert};
    ssl_certificate_key ${o.key};
    client_max_body_size 0;

    location / {
      proxy_pass http://${o.upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_read_timeout 1d;
      proxy_send_timeout 1d;
    }
  }
}
`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNginx(o: NginxOptions): Promise<Nginx> {
  ensureDebianPackages([{ command: '/usr/sbin/nginx', pkg: 'nginx' }]);
  const dir = mkdtempSync(join(tmpdir(), 'labhub-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, o));
  const errorLog = join(dir, 'error.log');
  const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-e', errorLog, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const errors = () => stderr + (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    if ((await accepts(o.httpsPort)) && (await accepts(o.httpPort))) return { dir, close, errors };
    await new Promise((r) => setTimeout(r, 50));
  }
  const why = errors();
  await close();
  throw new Error(`nginx did not start: ${why}`);
}
