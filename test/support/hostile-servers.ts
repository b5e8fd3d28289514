/**
 * Small local servers for hardening tests, all on 127.0.0.1 (port 0 = any free port), all closed by `close()`:
 * - {@link startSilentServer}: accepts TCP connections and never answers (a hung peer);
 * - {@link startEchoHeadersServer}: answers every HTTP request with an error whose body echoes the request headers
 *   (a misconfigured proxy or server that would leak `Authorization` into error messages);
 * - {@link startCutProxy}: a TCP proxy to a real service that can be cut mid-run (`cut()`), as if the service died.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Destroys every open connection and stops listening. */
  close(): Promise<void>;
}

function tracked(server: Server): { sockets: Set<Socket>; count: () => number } {
  const sockets = new Set<Socket>();
  let count = 0;
  server.on('connection', (s) => {
    count++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  return { sockets, count: () => count };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/** A server that accepts every connection and never sends a byte. */
export async function startSilentServer(): Promise<LocalServer> {
  const server = createServer(() => undefined);
  const { sockets, count } = tracked(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, connections: count, close: closer(server, sockets) };
}

/**
 * An HTTP server that answers every request with `status` and a body quoting the request's headers:
 * `mlflow` = MLflow's JSON error (`{"error_code": "UNAUTHENTICATED", "message": "... headers: {...}"}`),
 * `s3` = an S3 XML error whose Message holds the headers, `text` = the raw header lines as plain text.
 */
export async function startEchoHeadersServer(format: 'mlflow' | 's3' | 'text', status = 401): Promise<LocalServer & { readonly received: IncomingMessage['headers'][] }> {
  const received: IncomingMessage['headers'][] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    received.push(req.headers);
    req.resume();
    req.on('end', () => {
      const echoed = JSON.stringify(req.headers);
      if (format === 'mlflow') {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'UNAUTHENTICATED', message: `rejected ${req.method} ${req.url}; request headers were ${echoed}` }));
      } else if (format === 's3') {
        res.writeHead(status, { 'Content-Type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>denied; headers ${echoed.replaceAll('&', '&amp;').replaceAll('<', '&lt;')}</Message><RequestId>1</RequestId></Error>`);
      } else {
        res.writeHead(status, { 'Content-Type': 'text/plain' });
        res.end(`bad gateway\n${req.rawHeaders.map((v, i) => (i % 2 === 0 ? `${v}: ` : `${v}\n`)).join('')}`);
      }
    });
  });
  const { sockets, count } = tracked(server as unknown as Server);
  const port = await listen(server as unknown as Server);
  return { url: `http://127.0.0.1:${port}`, port, received, connections: count, close: closer(server as unknown as Server, sockets) };
}

/**
 * Sets the Host header of an HTTP/1 request head in `chunk` to `target` (servers such as MLflow refuse a Host they
 * do not serve); other chunks (bodies, continuations) pass unchanged.
 */
function rewriteHost(chunk: Buffer, text: string, target: string): Buffer {
  if (!/^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/.test(text)) return chunk;
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return chunk;
  const head = text.slice(0, end).replace(/\r\nHost: [^\r\n]*/i, `\r\nHost: ${target}`);
  return Buffer.concat([Buffer.from(head, 'latin1'), chunk.subarray(end)]);
}

/**
 * A TCP proxy from 127.0.0.1:<port> to `target` (`host:port`). `cut()` destroys every connection and refuses new ones
 * from then on (the port stays bound, so clients see `ECONNRESET`/`ECONNREFUSED`-like failures, not another service).
 * `cutWhen(text)` sees every chunk a client sends (as latin1 text) before it is forwarded; when it returns true the
 * proxy cuts right there (that chunk never reaches the service), e.g. on `POST /api/2.0/mlflow/model-versions/create`.
 */
export async function startCutProxy(target: string, cutWhen?: (text: string) => boolean): Promise<LocalServer & { cut(): void; readonly isCut: () => boolean }> {
  const [host, portText] = target.replace(/^https?:\/\//, '').replace(/\/.*$/, '').split(':');
  let cutDone = false;
  const upstreams = new Set<Socket>();
  const server = createServer((client) => {
    if (cutDone) return void client.destroy();
    const upstream = connect(Number(portText), host!);
    upstreams.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => upstreams.delete(upstream));
    client.on('error', () => upstream.destroy());
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (cutDone || cutWhen?.(text)) return cut();
      upstream.write(rewriteHost(chunk, text, `${host}:${portText}`));
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
  });
  const { sockets, count } = tracked(server);
  const port = await listen(server);
  const cut = () => {
    cutDone = true;
    for (const s of sockets) s.destroy();
    for (const s of upstreams) s.destroy();
  };
  const close = closer(server, sockets);
  return { url: `http://127.0.0.1:${port}`, port, connections: count, cut, isCut: () => cutDone, close: async () => (cut(), close()) };
}
