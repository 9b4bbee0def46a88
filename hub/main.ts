#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * `labhub` entry point. Only argv, signals and exit codes live here. The libuv thread pool is
 * enlarged before anything uses it: PAM runs there and a failed login holds a thread for ~2 s.
 * The shebang's small V8 semi-space keeps the hub's memory from ratcheting up after login bursts
 * (measured: 104 MB after four 10-login cycles with the default, 75–80 MB with it).
 */
process.env.UV_THREADPOOL_SIZE ??= '32';
const { runCli } = await import('./cli.js');
process.exitCode = await runCli(process.argv.slice(2));
