/**
 * The one final error handler: JupyterHub-style JSON (`{"status","message"}`) for API paths and
 * JSON clients, an HTML page for browsers. 5xx are logged with their stack; 4xx are not.
 */
import type { NextFunction, Request, Response } from 'express';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { PAGE_CSP } from '../pages/layout.js';
import { errorPage } from '../pages/templates.js';
import type { IdentityResolver } from './identity.js';

export function errorHandler(log: Logger, identity: IdentityResolver) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const hubErr =
      err instanceof HubError
        ? err
        : (err as { type?: string }).type === 'entity.parse.failed'
          ? new HubError('HUB_ERR_INVALID_JSON')
          : (err as { type?: string }).type === 'entity.too.large'
            ? new HubError('HUB_ERR_BAD_REQUEST', 'Request body too large')
            : (err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as NodeJS.ErrnoException).code === 'EDQUOT'
              ? new HubError('HUB_ERR_DISK_FULL')
              : null;
    if (hubErr?.code === 'HUB_ERR_DISK_FULL') log.error({ err }, 'state write failed: disk full');
    const status = hubErr?.status ?? 500;
    const message = hubErr?.message ?? 'Internal error. The hub log has the details.';
    if (!hubErr) log.error({ err, method: req.method, url: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const accept = String(req.headers.accept ?? '');
    if (req.path.startsWith('/hub/api') || (accept.includes('application/json') && !accept.includes('text/html'))) {
      res.status(status).json(hubErr?.problems ? { status, message, problems: hubErr.problems } : { status, message });
      return;
    }
    let user: string | null = null;
    try {
      user = identity.fromSession(req)?.user ?? null;
    } catch {
      user = null;
    }
    res.status(status).set({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP }).send(errorPage({ status, message, user }));
  };
}
