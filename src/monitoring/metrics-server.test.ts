import { describe, expect, it } from 'vitest';
import { AppError } from '../core/app-error.js';
import { startMetricsServer, type Readiness } from './metrics-server.js';
import { createTradingMetrics } from './trading-metrics.js';

describe('startMetricsServer', () => {
  it('serves /metrics (both registries), /healthz and /readyz from the readiness callback', async () => {
    const metrics = createTradingMetrics({ processMetrics: true });
    metrics.orderSubmitted('BTCUSDT-LINEAR.BYBIT', 'buy');
    let readiness: Readiness = { warmedUp: true, reconciled: true, breakerNotOpen: false };
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics, readiness: () => readiness });
    try {
      const scrape = await fetch(`${server.url}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const body = await scrape.text();
      expect(body).toContain('trade_matrix_orders_submitted_total{instrument="BTCUSDT-LINEAR.BYBIT",side="buy"} 1');
      expect(body).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');

      expect(await (await fetch(`${server.url}/healthz`)).text()).toBe('ok\n');
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false, checks: readiness });
      readiness = { warmedUp: true, reconciled: true, breakerNotOpen: true };
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { ready: boolean }).ready).toBe(true);

      expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('a taken port is a typed error naming host and port', async () => {
    const metrics = createTradingMetrics({ processMetrics: false });
    const first = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics, readiness: () => ({ warmedUp: true, reconciled: true, breakerNotOpen: true }) });
    try {
      const second = startMetricsServer({ host: '127.0.0.1', port: first.port, metrics, readiness: () => ({ warmedUp: true, reconciled: true, breakerNotOpen: true }) });
      await expect(second).rejects.toBeInstanceOf(AppError);
      await expect(second).rejects.toMatchObject({ code: 'metrics_server_listen_failed', context: { host: '127.0.0.1', port: first.port } });
    } finally {
      await first.close();
    }
  });
});
