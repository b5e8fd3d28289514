import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/** The project's global setup (start services, stop what it started) around one probe test; see services-teardown.test.ts. */
export default defineConfig({
  root: new URL('../..', import.meta.url).pathname,
  test: {
    include: ['test/support/services-probe.check.ts'],
    globalSetup: base.test!.globalSetup,
    hookTimeout: base.test!.hookTimeout,
    pool: 'forks',
  },
});
