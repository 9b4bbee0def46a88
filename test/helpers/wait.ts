/** Polling for the integration tests: wait until something real has happened, with a deadline. */

/**
 * Calls `fn` every `everyMs` until it returns something truthy (returned), or throws after
 * `timeoutMs` naming `what`; `detail` adds context to that error (e.g. the hub's output).
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 100,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
