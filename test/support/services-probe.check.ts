/**
 * Run only by test/integration/services-teardown.test.ts through services-probe.vitest.config.ts: a minimal test run
 * with the real global setup, to see which services it leaves behind. Checks that the setup pointed it at the
 * instance on the ports the outer test chose.
 */
import { expect, it } from 'vitest';

it('sees the services of the probe instance', () => {
  expect(process.env['TM_SERVICES_ERROR']).toBeUndefined();
  expect(process.env['REDIS_URL']).toBe(`redis://127.0.0.1:${process.env['TM_REDIS_PORT']}`);
  expect(process.env['MLFLOW_TRACKING_URI']).toBe(`http://127.0.0.1:${process.env['TM_MLFLOW_PORT']}`);
});
