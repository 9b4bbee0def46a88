#!/usr/bin/env node
/**
 * `labhub` entry point. Only argv, signals and exit codes live here. The libuv thread pool is
 * enlarged before anything uses it: PAM runs there and a failed login holds a thread for ~2 s.
 */
process.env.UV_THREADPOOL_SIZE ??= '32';
const { runCli } = await import('./cli.js');
process.exitCode = await runCli(process.argv.slice(2));
