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
      const error = (await second.catch((e: unknown) => e)) as AppError;
      expect(error.message).toMatch(new RegExp(`^metrics server cannot listen on 127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`));
      expect((error.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    } finally {
      await first.close();
    }
  });
  it('answers each path with its status, content type and body; HEAD has no body; a query string is ignored', async () => {
    const metrics = createTradingMetrics({ processMetrics: false });
    let readiness: Readiness = { warmedUp: false, reconciled: true, breakerNotOpen: true };
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics, readiness: () => readiness });
    try {
      const head = await fetch(`${server.url}/metrics?name=x`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await head.text()).toBe('');
      const scrape = await fetch(`${server.url}/metrics?name=x`);
      expect(await scrape.text()).toBe(await metrics.exposition());
      const health = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
      expect([health.status, health.headers.get('content-type')]).toEqual([200, 'text/plain']);
      // Not ready unless every check holds: each one alone keeps it at 503.
      for (const checks of [readiness, { warmedUp: true, reconciled: false, breakerNotOpen: true }, { warmedUp: true, reconciled: true, breakerNotOpen: false }]) {
        readiness = checks;
        const r = await fetch(`${server.url}/readyz`);
        expect([r.status, r.headers.get('content-type')]).toEqual([503, 'application/json']);
        expect(await r.text()).toBe(`${JSON.stringify({ ready: false, checks })}\n`);
      }
      const missing = await fetch(`${server.url}/`);
      expect([missing.status, missing.headers.get('content-type'), await missing.text()]).toEqual([404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n']);
      const post = await fetch(`${server.url}/healthz`, { method: 'DELETE' });
      expect([post.status, post.headers.get('allow'), post.headers.get('content-type'), await post.text()]).toEqual([405, 'GET, HEAD', 'text/plain', 'method not allowed\n']);
    } finally {
      await server.close();
    }
  });

  it('an exposition that fails is a 500 naming the error; close() stops the server', async () => {
    const failing = { exposition: () => Promise.reject(new Error('registry broke')) };
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics: failing, readiness: () => ({ warmedUp: true, reconciled: true, breakerNotOpen: true }) });
    const broken = await fetch(`${server.url}/metrics`);
    expect([broken.status, broken.headers.get('content-type'), await broken.text()]).toEqual([500, 'text/plain', 'internal error: registry broke\n']);
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('an IPv6 host is bracketed in the url', async () => {
    const server = await startMetricsServer({ host: '::1', port: 0, metrics: createTradingMetrics({ processMetrics: false }), readiness: () => ({ warmedUp: true, reconciled: true, breakerNotOpen: true }) });
    try {
      expect(server.url).toBe(`http://[::1]:${server.port}`);
      expect(await (await fetch(`${server.url}/healthz`)).text()).toBe('ok\n');
    } finally {
      await server.close();
    }
  });
});
