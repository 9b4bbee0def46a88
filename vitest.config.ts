import { defineConfig } from 'vitest/config';

// Integration and e2e tests start real processes (PAM users, jupyterhub-singleuser, Chromium),
// so they run one file at a time with generous timeouts; unit tests are quick either way.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
