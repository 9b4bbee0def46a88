#!/usr/bin/env -S node --max-semi-space-size=1 --no-opt
/**
 * `labhub` entry point. Only argv, signals and exit codes live here. The libuv thread pool is
 * enlarged before anything uses it: PAM runs there and a failed login holds a thread for ~2 s.
 * The shebang's V8 flags are for memory, because hub and proxy must idle under 110 MB: a small
 * semi-space keeps the hub from ratcheting up after login bursts (measured: 104 MB after four
 * 10-login cycles with the default, 75–80 MB with it), and --no-opt (no optimising compiler; the
 * baseline compiler stays) saves ~5 MB: the hub mostly waits on PAM, processes and disk. Measured
 * trade-off: GET /hub/api/users with 200 users takes ~3 ms instead of ~2 ms (V8 lite mode saved
 * 2 MB more but made it ~4 ms). The proxy, which is CPU-bound, runs without these flags (see
 * ensureProxy in cli.ts).
 */
process.env.UV_THREADPOOL_SIZE ??= '32';
const { runCli } = await import('./cli.js');
process.exitCode = await runCli(process.argv.slice(2));
