import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One DVOL candle as Deribit sends it: `[ts, open, high, low, close]`. */
export type DvolCandle = readonly [number, number, number, number, number];

/**
 * A local HTTP server speaking Deribit's public `GET /api/v2/public/get_volatility_index_data` (the DVOL index), the
 * only Deribit endpoint `tm data fetch --dvol` calls, for tests that must not touch the network. Listens on 127.0.0.1.
 *
 * Shape (Deribit API docs, public/get_volatility_index_data): query `currency`, `start_timestamp`, `end_timestamp`
 * (ms, inclusive), `resolution` (seconds or `1D`); answer `{ jsonrpc: "2.0", result: { data: [[ts, o, h, l, c], ...]
 * ascending, continuation } }`. When more than `maxCandles` candles fall in the window, the newest `maxCandles` are sent
 * and `continuation` is the `end_timestamp` of the next (older) request; else `continuation` is null. Unknown
 * currencies get a JSON-RPC error like Deribit's (`code` 10020, HTTP 400).
 */
export class DeribitDvolServer {
  readonly requests: Record<string, string>[] = [];

  private constructor(
    private readonly server: Server,
    private readonly candles: Readonly<Record<string, readonly DvolCandle[]>>,
    private readonly maxCandles: number,
  ) {
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const query = Object.fromEntries(url.searchParams);
      this.requests.push({ path: url.pathname, ...query });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname !== '/api/v2/public/get_volatility_index_data') return send(404, { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' } });
      const series = this.candles[query['currency'] ?? ''];
      if (series === undefined) return send(400, { jsonrpc: '2.0', error: { code: 10020, message: 'invalid_currency' }, testnet: false });
      const start = Number(query['start_timestamp']);
      const end = Number(query['end_timestamp']);
      if (!Number.isFinite(start) || !Number.isFinite(end) || query['resolution'] === undefined) {
        return send(400, { jsonrpc: '2.0', error: { code: -32602, message: 'Invalid params' } });
      }
      const inWindow = series.filter((c) => c[0] >= start && c[0] <= end);
      const data = inWindow.slice(-this.maxCandles);
      const continuation = inWindow.length > data.length ? data[0]![0] - 1 : null;
      send(200, { jsonrpc: '2.0', result: { data, continuation }, usIn: 0, usOut: 0, usDiff: 0, testnet: false });
    });
  }

  /** Starts the server with candles per currency (ascending) and the most candles per answer. */
  static async start(candles: Readonly<Record<string, readonly DvolCandle[]>>, maxCandles = 1000): Promise<DeribitDvolServer> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return new DeribitDvolServer(server, candles, maxCandles);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
