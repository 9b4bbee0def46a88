/**
 * The Authenticator seam and its PAM implementation (authenticate-pam, a native addon that runs
 * pam_authenticate on libuv's thread pool). Account rules (uid, lock, expiry, groups) are checked
 * by the login service, because authenticate-pam does not run PAM's account stage.
 */
import { createRequire } from 'node:module';

export interface Authenticator {
  /** True when the password is right for this account. Never throws for a wrong password. */
  authenticate(name: string, password: string, remoteHost: string): Promise<boolean>;
}

interface PamModule {
  authenticate(
    user: string,
    password: string,
    cb: (err: unknown) => void,
    options?: { serviceName?: string; remoteHost?: string },
  ): void;
}

export class PamAuthenticator implements Authenticator {
  private readonly pam: PamModule;

  constructor(private readonly serviceName: string) {
    this.pam = createRequire(import.meta.url)('authenticate-pam') as PamModule;
  }

  authenticate(name: string, password: string, remoteHost: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.pam.authenticate(name, password, (err) => resolve(!err), {
        serviceName: this.serviceName,
        remoteHost: remoteHost.slice(0, 120),
      });
    });
  }
}
