/**
 * The one redactor of trade-matrix: every boundary that turns remote text or an error into a message, a log line,
 * a journal line or a report passes it through these pure functions, so a token, an API key, a signature or a
 * password in a URI never reaches stdout, stderr, logs or files.
 *
 * What is redacted (replaced by {@link REDACTED}):
 * - every value in `secrets` (e.g. the values of `MLFLOW_TRACKING_TOKEN`, `AWS_SECRET_ACCESS_KEY`, Bybit keys), verbatim;
 * - `Bearer <token>` / `Basic <credentials>` (any case);
 * - values of `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie` and every `X-BAPI-*` header, and of keys
 *   named like a secret (`token`, `api_key`, `apiKey`, `secret`, `password`, `signature`, `sign`, `X-Amz-Signature`,
 *   `X-Amz-Credential`, `X-Amz-Security-Token`, `credential`, `access_key`, `secret_access_key`, `private_key`) in `key: value`,
 *   `key=value` (query strings, form bodies) and JSON `"key": "value"` forms;
 * - credentials in URIs: `https://user:pass@host` becomes `https://[REDACTED]@host`;
 * - AWS access key ids (`AKIA…`/`ASIA…`).
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** Secret values shorter than this are not replaced verbatim (too likely to hit ordinary text). */
const MIN_SECRET_LENGTH = 6;

const SECRET_KEY =
  String.raw`(?:x-bapi-[a-z0-9-]+|(?:proxy-)?authorization|set-cookie|cookie|x-amz-(?:signature|credential|security-token)|` +
  String.raw`[a-z0-9_.-]*(?:token|api[_-]?key|apikey|secret|password|passwd|passphrase|signature|credential|private[_-]?key|access[_-]?key(?:[_-]?id)?)|sign)`;

/** JSON `"key": "value"` (the value is a JSON string). */
const JSON_PAIR = new RegExp(String.raw`("${SECRET_KEY}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi');
/** `key=value` in query strings and form bodies. */
const QUERY_PAIR = new RegExp(String.raw`([?&;\s,{(]|^)(${SECRET_KEY})=([^&\s"',;)}]+)`, 'gi');
/** `Key: value` header lines, also inside messages (`{ authorization: 'Bearer …' }`, `'X-BAPI-SIGN': 'abc'`). */
const HEADER_PAIR = new RegExp(String.raw`(['"]?\b${SECRET_KEY}['"]?\s*:\s*)(?!\s*\[REDACTED\])(['"]?)([^\r\n'",}]+)`, 'gi');
const AUTH_SCHEME = /\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9\-._~+/=]{4,}/gi;
const URI_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)(?:[^\s/@:'"]+(?::[^\s/@'"]*)?|:[^\s/@'"]+)@/gi;
const AWS_KEY_ID = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g;

/**
 * Returns `text` with every secret replaced by {@link REDACTED} (see the module comment for what counts).
 * @example redactText('GET https://u:p@host?api_key=abc', []) // 'GET https://[REDACTED]@host?api_key=[REDACTED]'
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= MIN_SECRET_LENGTH && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  out = out.replace(URI_CREDENTIALS, `$1${REDACTED}@`);
  out = out.replace(JSON_PAIR, `$1"${REDACTED}"`);
  out = out.replace(AUTH_SCHEME, `$1 ${REDACTED}`);
  out = out.replace(HEADER_PAIR, (_m, key: string, quote: string) => `${key}${quote}${REDACTED}`);
  out = out.replace(QUERY_PAIR, (_m, lead: string, key: string) => `${lead}${key}=${REDACTED}`);
  out = out.replace(AWS_KEY_ID, REDACTED);
  return out;
}

/** Longest remote body (after redaction) kept in an error message, in characters. */
export const REMOTE_BODY_LIMIT = 300;

/**
 * Redacts a remote peer's response body, then truncates it to `limit` characters (noting how many were cut), so an
 * error can quote a server's message without echoing headers or dumping a whole page.
 */
export function remoteBodyExcerpt(body: string, secrets: readonly string[] = [], limit = REMOTE_BODY_LIMIT): string {
  const clean = redactText(body, secrets);
  return clean.length <= limit ? clean : `${clean.slice(0, limit)}… (${clean.length - limit} more characters)`;
}

/** Deep copy of a plain value with every string redacted (objects, arrays; other values as they are). */
export function redactValue(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets, depth + 1));
  if (value instanceof Error) return redactError(value, secrets);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = new RegExp(`^${SECRET_KEY}$`, 'i').test(k) && typeof v === 'string' ? REDACTED : redactValue(v, secrets, depth + 1);
  return out;
}

/**
 * Returns a copy of `e` (same class, `name`, `code`) whose message, stack, `context` and whole `cause` chain are
 * redacted. Non-Error values become an `Error` of their redacted string form. The original is left untouched.
 */
export function redactError(e: unknown, secrets: readonly string[] = [], depth = 0): Error {
  if (!(e instanceof Error)) return new Error(redactText(String(e), secrets));
  const copy = Object.create(Object.getPrototypeOf(e) as object) as Error & Record<string, unknown>;
  for (const key of Reflect.ownKeys(e)) {
    const d = Object.getOwnPropertyDescriptor(e, key)!;
    Object.defineProperty(copy, key, d);
  }
  const define = (key: string, value: unknown) => Object.defineProperty(copy, key, { value, writable: true, configurable: true, enumerable: key !== 'message' && key !== 'stack' && key !== 'cause' });
  define('message', redactText(e.message, secrets));
  if (typeof e.stack === 'string') define('stack', redactText(e.stack, secrets));
  const context = (e as { context?: unknown }).context;
  if (context !== undefined) define('context', Object.freeze(redactValue(context, secrets) as object));
  if (e.cause !== undefined) define('cause', depth >= 8 ? REDACTED : e.cause instanceof Error ? redactError(e.cause, secrets, depth + 1) : redactValue(e.cause, secrets));
  // Errors of HTTP libraries keep the request (headers included) on themselves: drop those fields.
  for (const key of ['config', 'request', 'response', '$response']) if (key in copy) define(key, undefined);
  return copy;
}

/** Names of environment variables whose values are secrets (matched case-insensitively). */
const SECRET_ENV = /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)/i;

/**
 * The values of the secret-looking variables of `env` (`*_TOKEN`, `*_SECRET*`, `*_API_KEY`, ...), for {@link redactText}.
 * Values that are plain numbers or booleans (e.g. `MAX_TOKENS=100000`) are left out: they are settings, and replacing
 * them would mangle ordinary figures in the output.
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    const value = raw?.trim();
    if (value === undefined || value.length < MIN_SECRET_LENGTH || !SECRET_ENV.test(name)) continue;
    if (/^[0-9.+-]+$/.test(value) || /^(true|false)$/i.test(value)) continue;
    out.push(value);
  }
  return out.sort((a, b) => b.length - a.length);
}
