import { describe, expect, it } from 'vitest';
import { AppError } from './app-error.js';
import { REDACTED, redactError, redactText, remoteBodyExcerpt, secretsFromEnv } from './redact.js';

const TOKEN = 'tok-5f2c9e1d7a3b';

describe('redactText', () => {
  it.each([
    ['Authorization: Bearer abc.def-ghi', 'abc.def-ghi'],
    ["{'Authorization': 'Bearer abc123456', 'Host': 'x'}", 'abc123456'],
    ['{"authorization":"Basic dXNlcjpwYXNz"}', 'dXNlcjpwYXNz'],
    ['X-BAPI-API-KEY: key123456\r\nX-BAPI-SIGN: 9f8e7d6c5b', 'key123456'],
    ['X-BAPI-API-KEY: key123456\r\nX-BAPI-SIGN: 9f8e7d6c5b', '9f8e7d6c5b'],
    ["headers: { 'X-BAPI-SIGN': 'deadbeef42' }", 'deadbeef42'],
    ['GET https://api.bybit.com/v5/x?api_key=K123456&sign=S987654&symbol=BTCUSDT', 'K123456'],
    ['GET https://api.bybit.com/v5/x?api_key=K123456&sign=S987654&symbol=BTCUSDT', 'S987654'],
    ['https://s3/x?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2024', 'abcdef0123'],
    ['cannot reach https://alice:hunter22@mlflow.internal:5000/api', 'hunter22'],
    ['redis://:p4ssw0rd@127.0.0.1:6379', 'p4ssw0rd'],
    ['{"secret_access_key": "wJalrXUtnFEMI/K7MDENG"}', 'wJalrXUtnFEMI/K7MDENG'],
    ['password=letmein99 user=bob', 'letmein99'],
    ['key id AKIAIOSFODNN7EXAMPLE in message', 'AKIAIOSFODNN7EXAMPLE'],
    ['apiKey: "zz-top-secret"', 'zz-top-secret'],
  ])('removes the secret from %j', (text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it('removes listed secret values verbatim wherever they appear', () => {
    expect(redactText(`echo: ${TOKEN} and again ${TOKEN}`, [TOKEN])).toBe(`echo: ${REDACTED} and again ${REDACTED}`);
  });

  it('leaves ordinary text alone', () => {
    const text = 'MLflow GET /api/2.0/mlflow/registered-models/get failed with RESOURCE_DOES_NOT_EXIST: model btc-4h (signal: 0.3, tokens used 5)';
    expect(redactText(text, ['short'])).toBe(text);
    expect(redactText('design: ok; http://127.0.0.1:15000/path', [])).toBe('design: ok; http://127.0.0.1:15000/path');
  });
});

describe('remoteBodyExcerpt', () => {
  it('redacts before it truncates and says how much was cut', () => {
    const body = `Authorization: Bearer ${TOKEN}\n` + 'x'.repeat(1000);
    const out = remoteBodyExcerpt(body, [TOKEN], 100);
    expect(out).not.toContain(TOKEN);
    expect(out.startsWith('Authorization: [REDACTED]')).toBe(true);
    expect(out).toMatch(/… \(\d+ more characters\)$/);
    expect(out.length).toBeLessThan(140);
  });
});

describe('redactError', () => {
  it('keeps class and code, redacts message, context and the whole cause chain, leaves the original as it was', () => {
    class SomeError extends AppError<'x'> {}
    const root = new Error(`socket hang up (Authorization: Bearer ${TOKEN})`);
    const middle = new Error('wrapped', { cause: root });
    const e = new SomeError('x', `failed: ${TOKEN}`, { body: `{"token":"${TOKEN}"}`, nested: { list: [`Bearer ${TOKEN}`] } }, { cause: middle });
    const r = redactError(e, [TOKEN]);
    expect(r).toBeInstanceOf(SomeError);
    expect((r as SomeError).code).toBe('x');
    const dump = JSON.stringify({ m: r.message, s: r.stack, c: (r as SomeError).context, c1: (r.cause as Error).message, c2: ((r.cause as Error).cause as Error).message, s2: ((r.cause as Error).cause as Error).stack });
    expect(dump).not.toContain(TOKEN);
    expect(e.message).toContain(TOKEN); // the original is untouched
  });

  it('drops the request config HTTP libraries hang on their errors', () => {
    const e = Object.assign(new Error('Request failed'), { config: { headers: { Authorization: `Bearer ${TOKEN}` } } });
    expect(JSON.stringify((redactError(e) as unknown as { config?: unknown }).config ?? null)).not.toContain(TOKEN);
  });

  it('turns a thrown non-Error into a redacted Error', () => {
    expect(redactError(`boom ${TOKEN}`, [TOKEN]).message).toBe(`boom ${REDACTED}`);
  });
});

describe('secretsFromEnv', () => {
  it('collects values of secret-looking variables only, longest first', () => {
    const env = { MLFLOW_TRACKING_TOKEN: TOKEN, AWS_SECRET_ACCESS_KEY: 'minio-secret-123456', AWS_ACCESS_KEY_ID: 'minioadmin', HOME: '/home/x', TM_S3_BUCKET: 'trade-matrix', SHORT_TOKEN: 'abc', MAX_TOKENS: '100000', USE_SECRET_STORE: 'false' };
    expect(secretsFromEnv(env)).toEqual(['minio-secret-123456', TOKEN, 'minioadmin']);
  });
});
