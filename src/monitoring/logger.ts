/**
 * The root logger: pino JSON lines (`level`, `time` ISO-8601 UTC, `msg`, `runner`, then event fields such as
 * `instrument`, `event`, `err`). Created once by the composition root and passed down; children add low-cardinality
 * bindings (`logger.child({ instrument })`).
 *
 * Secrets never reach a line:
 * - pino's `redact` removes the values at {@link REDACT_PATHS} (API keys, secrets, passwords, tokens, signatures,
 *   `Authorization` and Bybit's `X-BAPI-API-KEY` / `X-BAPI-SIGN` headers, at the top level and nested one or two
 *   objects deep, e.g. `err.config.headers`);
 * - errors go through {@link serializeError}, which keeps type, message, code, stack and cause chain, and for HTTP
 *   client errors (axios) only method, URL path (no query string: venues sign GET queries), status and the response
 *   body — never the request config, headers or socket.
 * Free text (messages) is not scanned here.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LevelWithSilent[];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** `runner` field of every line (low cardinality: one value per deployment). */
  readonly runner: string;
}

export const REDACT_CENSOR = '[redacted]';

const SECRET_KEYS = [
  'apiKey',
  'api_key',
  'apiSecret',
  'api_secret',
  'secret',
  'secretKey',
  'secretAccessKey',
  'password',
  'passphrase',
  'token',
  'accessToken',
  'refreshToken',
  'privateKey',
  'signature',
  'sign',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
];
const SECRET_HEADERS = ['authorization', 'Authorization', 'X-BAPI-API-KEY', 'X-BAPI-SIGN', 'x-bapi-api-key', 'x-bapi-sign', 'cookie', 'Cookie', 'set-cookie'];

/** Paths pino redacts (fast-redact syntax): secret keys and secret headers at depth 0..2. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`, `*.*.headers["${h}"]`]),
];

interface HttpClientError extends Error {
  isAxiosError: true;
  code?: string;
  config?: { method?: string; url?: string; baseURL?: string };
  response?: { status?: number; data?: unknown };
}

const isHttpClientError = (e: Error): e is HttpClientError => (e as Partial<HttpClientError>).isAxiosError === true;

/** `https://host/path?query#hash` → `https://host/path` (relative URLs keep their path). */
function withoutQuery(url: string): string {
  return url.replace(/[?#].*$/, '');
}

function bounded(data: unknown): unknown {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return text !== undefined && text.length > 2_000 ? `${text.slice(0, 2_000)}…` : data;
}

/**
 * Turns an error into a plain, secret-free object: type, message, code, stack, own `context` (AppError), the HTTP
 * details of an axios error (method, URL path, status, response body up to 2 000 characters) and the `cause`
 * chain (5 deep). Non-errors are returned unchanged.
 */
export function serializeError(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) return value;
  const e = value as Error & { code?: unknown; context?: unknown; cause?: unknown };
  const out: Record<string, unknown> = { type: e.constructor.name, message: e.message };
  if (e.code !== undefined) out['code'] = e.code;
  if (isHttpClientError(e)) {
    const method = e.config?.method?.toUpperCase();
    const url = e.config?.url === undefined ? undefined : withoutQuery(e.config.baseURL && !/^https?:/.test(e.config.url) ? `${e.config.baseURL.replace(/\/$/, '')}/${e.config.url.replace(/^\//, '')}` : e.config.url);
    Object.assign(out, { method, url, status: e.response?.status, ...(e.response?.data !== undefined ? { responseBody: bounded(e.response.data) } : {}) });
  } else if (e.context !== undefined && typeof e.context === 'object') {
    out['context'] = e.context;
  }
  out['stack'] = e.stack;
  if (e.cause !== undefined && depth < 5) out['cause'] = serializeError(e.cause, depth + 1);
  return out;
}

/**
 * Creates the root logger writing JSON lines to `destination` (default: stdout).
 * @example
 * const logger = createLogger({ level: 'info', runner: 'paper-1' });
 * logger.child({ instrument: 'BTCUSDT-LINEAR.BYBIT' }).info({ event: 'order_submitted', side: 'buy' }, 'order submitted');
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const config = {
    level: options.level,
    base: { runner: options.runner },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
    serializers: { err: serializeError, error: serializeError },
  };
  return destination === undefined ? pino(config) : pino(config, destination);
}
