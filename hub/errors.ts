/**
 * HubError and the catalogue of every error code LabHub answers with. One final handler renders
 * them as JupyterHub-style JSON (`{"status", "message"}`) for the API and as an HTML page for
 * browsers. A test checks that every code here is documented in docs/errors.md.
 */

export const errorCatalogue = {
  HUB_ERR_BAD_REQUEST: { status: 400, message: 'Bad request' },
  HUB_ERR_INVALID_JSON: { status: 400, message: 'Invalid JSON in body of request' },
  HUB_ERR_INVALID_NAME: { status: 400, message: 'Invalid user name' },
  HUB_ERR_NOT_AUTHENTICATED: { status: 403, message: 'Forbidden' },
  HUB_ERR_FORBIDDEN: { status: 403, message: 'Action is not authorized with current scopes' },
  HUB_ERR_CSRF: { status: 403, message: 'Form expired or was sent from another site; reload the page and try again' },
  HUB_ERR_NOT_FOUND: { status: 404, message: 'Not Found' },
  HUB_ERR_LOGIN_FAILED: { status: 403, message: 'Invalid user name or password' },
  HUB_ERR_LOCKED_OUT: { status: 429, message: 'Too many failed logins; try again later' },
  HUB_ERR_ACCOUNT_NOT_ALLOWED: { status: 403, message: 'This account may not log in to LabHub' },
  HUB_ERR_SERVER_NOT_RUNNING: { status: 424, message: 'Server not running' },
  HUB_ERR_ALREADY_RUNNING: { status: 400, message: 'Server is already running' },
  HUB_ERR_SPAWN_FAILED: { status: 500, message: 'Spawn failed' },
  HUB_ERR_REDIRECT_LOOP: { status: 500, message: 'Redirect loop detected' },
  HUB_ERR_OAUTH_CLIENT: { status: 400, message: 'Unknown OAuth client or redirect URI' },
  HUB_ERR_STATE_DAMAGED: { status: 500, message: 'The state file is damaged' },
  HUB_ERR_PROXY: { status: 502, message: 'The proxy could not be reached' },
  HUB_ERR_DISK_FULL: {
    status: 507,
    message: "The LabHub server's disk is full, so nothing could be saved. Nothing was changed; ask the lab administrator to free space.",
  },
  HUB_ERR_DISK_QUOTA: { status: 403, message: 'Your home folder is over its disk limit; free space before starting your server' },
  HUB_ERR_INVALID_SETTINGS: { status: 400, message: 'Invalid settings; nothing was changed' },
  HUB_ERR_ACCOUNT_PROTECTED: { status: 400, message: 'This account is protected: LabHub does not change root, system accounts or your own account' },
  HUB_ERR_ACCOUNT_COMMAND: { status: 500, message: 'A system command for managing accounts failed' },
  HUB_ERR_BACKUP_BUSY: { status: 409, message: 'A backup or repository check is already running; wait for it to finish' },
  HUB_ERR_BACKUP_UNAVAILABLE: { status: 503, message: 'Backups cannot run: the backup repository or restic cannot be used' },
  HUB_ERR_BACKUP_FAILED: { status: 500, message: 'restic failed' },
  HUB_ERR_RESTORE_NOT_CONFIRMED: {
    status: 409,
    message: 'Restoring in place overwrites files; review what will be overwritten and confirm again',
  },
  HUB_ERR_TLS: { status: 500, message: 'The TLS certificate or key cannot be used' },
  HUB_ERR_DOCKER_UNAVAILABLE: { status: 503, message: 'Docker is not running on the LabHub server' },
  HUB_ERR_DOCKER_IMAGE_MISSING: { status: 503, message: 'The server image is missing; build it with: labhub image build' },
  HUB_ERR_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type HubErrorCode = keyof typeof errorCatalogue;

/** An error with a stable code, an HTTP status and a message that is safe to show to the user. */
export class HubError extends Error {
  readonly status: number;
  /** Per-field validation problems, sent with the JSON error as `problems`. */
  readonly problems?: ReadonlyArray<{ field: string; message: string }>;
  constructor(
    readonly code: HubErrorCode,
    message?: string,
    options?: { cause?: unknown; status?: number; problems?: ReadonlyArray<{ field: string; message: string }> },
  ) {
    super(message ?? errorCatalogue[code].message, options?.cause ? { cause: options.cause } : undefined);
    this.name = 'HubError';
    this.status = options?.status ?? errorCatalogue[code].status;
    if (options?.problems) this.problems = options.problems;
  }
}

export function isHubError(err: unknown): err is HubError {
  return err instanceof HubError;
}
