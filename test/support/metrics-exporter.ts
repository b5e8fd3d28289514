/**
 * A small exporter process: the metrics module with sample values (test/support/sample-metrics.ts) served by
 * startMetricsServer, ticking every 250 ms like a runner. Prints `listening <url>` once ready.
 *
 *   npx tsx test/support/metrics-exporter.ts --port 0
 */
import { createTradingMetrics, startMetricsServer } from '../../src/monitoring/index.js';
import { populateSampleMetrics, tickSampleMetrics } from './sample-metrics.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx test/support/metrics-exporter.ts [--port N] [--host H]\nServes sample trade-matrix metrics on /metrics, /healthz, /readyz.');
  process.exit(0);
}
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};

const metrics = createTradingMetrics({ processMetrics: true });
populateSampleMetrics(metrics, Date.now());
const server = await startMetricsServer({
  host: option('--host', '127.0.0.1'),
  port: Number(option('--port', '0')),
  metrics,
  readiness: () => ({ warmedUp: true, reconciled: true, breakerNotOpen: false }),
});
// A runner collects garbage all the time; with --expose-gc the exporter forces one now and then so the GC
// families of the process registry have samples too.
const collectGarbage = (globalThis as { gc?: () => void }).gc;
let ticks = 0;
const timer = setInterval(() => {
  tickSampleMetrics(metrics, Date.now());
  if (collectGarbage && ++ticks % 4 === 0) collectGarbage();
}, 250);
console.log(`listening ${server.url}`);
const stop = () => {
  clearInterval(timer);
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
