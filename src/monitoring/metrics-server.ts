/**
 * The runner's observability endpoint: `GET /metrics` (Prometheus text exposition of both registries),
 * `GET /healthz` (the process answers: 200 `ok`) and `GET /readyz` (200 when the readiness callback says ready,
 * 503 otherwise; JSON body with the individual checks). Anything else is 404; methods other than GET/HEAD are 405.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../core/app-error.js';
import type { TradingMetrics } from './trading-metrics.js';

export type MonitoringErrorCode = 'metrics_server_listen_failed' | 'metrics_file_write_failed';
export type MonitoringError = AppError<MonitoringErrorCode>;

/** Readiness as the runner sees it; `/readyz` is ready only when every check holds. */
export interface Readiness {
  readonly warmedUp: boolean;
  readonly reconciled: boolean;
  readonly breakerNotOpen: boolean;
}

export interface MetricsServerOptions {
  /** Interface to bind; default of the runner: 127.0.0.1 (in a container: 0.0.0.0). */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly metrics: Pick<TradingMetrics, 'exposition'>;
  readonly readiness: () => Readiness;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  close(): Promise<void>;
}

const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

async function handle(options: MetricsServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/metrics') {
    const body = await options.metrics.exposition();
    response.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE }).end(request.method === 'HEAD' ? undefined : body);
  } else if (path === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  } else if (path === '/readyz') {
    const checks = options.readiness();
    const ready = checks.warmedUp && checks.reconciled && checks.breakerNotOpen;
    response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ready, checks })}\n`);
  } else {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
  }
}

/**
 * Starts the endpoint and resolves once it listens.
 * @throws MonitoringError `metrics_server_listen_failed` when the port cannot be bound.
 * @example
 * const server = await startMetricsServer({ host: '127.0.0.1', port: 9464, metrics, readiness: () => runner.readiness() });
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    handle(options, request, response).catch((e: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) =>
      reject(new AppError<MonitoringErrorCode>('metrics_server_listen_failed', `metrics server cannot listen on ${options.host}:${options.port}: ${e.message}`, { host: options.host, port: options.port }, { cause: e })),
    );
    server.listen(options.port, options.host, () => {
      const port = (server.address() as AddressInfo).port;
      const hostPart = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        host: options.host,
        port,
        url: `http://${hostPart}:${port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((e) => (e ? fail(e) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
