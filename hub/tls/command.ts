/**
 * `labhub tls init --dir DIR [--hostname NAME ...] [--ip ADDR ...]` (the interface the installer
 * calls). Needs no config and no running hub. Returns the exit code: 0 done, 1 failed, 2 usage.
 */
import { parseArgs } from 'node:util';
import { HubError } from '../errors.js';
import { describeTlsInit, tlsInit } from './init.js';

export const TLS_USAGE = `Usage: labhub tls init --dir DIR [--hostname NAME ...] [--ip ADDR ...] [--renew-days N] [--no-machine-ips]

Makes (once) a local certificate authority for this lab, DIR/ca.crt and DIR/ca.key (0600), and a
server certificate signed by it, DIR/server.crt and DIR/server.key (0600), for NAME(s), this
machine's host name, localhost, 127.0.0.1, ::1 and this machine's addresses (plus ADDR).
Re-running keeps the CA and issues the server certificate again only when it is missing,
expires within N days (default 30) or should name other hosts or addresses.`;

export async function runTlsCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        dir: { type: 'string' },
        hostname: { type: 'string', multiple: true },
        ip: { type: 'string', multiple: true },
        'renew-days': { type: 'string' },
        'no-machine-ips': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`labhub tls: ${(e as Error).message}\n\n${TLS_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    out(`${TLS_USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== 'init' || positionals.length !== 1 || !values.dir) {
    err(`${TLS_USAGE}\n`);
    return 2;
  }
  const renew = values['renew-days'];
  if (renew !== undefined && !/^\d+$/.test(renew)) {
    err(`labhub tls: --renew-days: expected a number of days, got "${renew}"\n`);
    return 2;
  }
  try {
    const result = await tlsInit({
      dir: values.dir,
      hostnames: values.hostname ?? [],
      ips: values.ip ?? [],
      machineIps: !values['no-machine-ips'],
      renewDays: renew === undefined ? undefined : Number(renew),
    });
    out(`${describeTlsInit(result)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof HubError)) throw e;
    err(`labhub tls: ${e.message}\n`);
    return e.message.includes('is not a valid host name') || e.message.includes('is not an IP address') ? 2 : 1;
  }
}
