import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // *.live.test.ts reach outside networks: never part of `npm test`.
    exclude: ['**/*.live.test.ts', '**/node_modules/**', 'dist/**'],
    // Starts Redis, MinIO, MLflow and the tslab kernel (scripts/services.sh up) and exports their env vars.
    globalSetup: ['test/setup/global-services.ts'],
    testTimeout: 60_000,
    // The first `services.sh up` on a fresh machine installs everything (minutes).
    hookTimeout: 600_000,
    pool: 'forks',
    // The default reporter, plus a scan of every console line for the test venue's API key and secret.
    reporters: ['default', './test/setup/secret-scan-reporter.ts'],
  },
});
