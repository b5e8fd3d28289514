import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ccxt from 'ccxt';
import * as loaded from './ccxt-bybit.js';

const trace = join(mkdtempSync(join(tmpdir(), 'tm-ccxt-bybit-')), 'resolved.txt');

describe('ccxt-bybit: the Bybit module of ccxt without its other exchanges', () => {
  it('loads the Bybit files themselves (not the fallback) and they are the very classes ccxt exports', () => {
    expect(loaded.ccxtSource).toBe('bybit-module');
    expect(loaded.CcxtBybit).toBe(ccxt.bybit);
    for (const name of ['BadResponse', 'BaseError', 'AuthenticationError', 'DDoSProtection', 'ExchangeError', 'InvalidNonce', 'NetworkError', 'RateLimitExceeded'] as const) {
      expect(loaded[name], name).toBe(ccxt[name]);
    }
    // What a Bybit instance throws is an instance of the classes the adapters test against.
    const exchange = new loaded.CcxtBybit();
    expect(() => exchange.handleErrors(200, 'OK', 'u', 'GET', {}, '{"retCode":10006,"retMsg":"Too many visits!"}', { retCode: 10006, retMsg: 'Too many visits!' }, {}, {})).toThrow(loaded.RateLimitExceeded);
  });

  it('a process importing it never loads ccxt’s entry point, as ES module or CommonJS bundle (none of the other exchanges)', () => {
    // A resolve hook in the child records every module URL it resolves.
    const hook = `import { appendFileSync } from 'node:fs'; export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(trace)}, r.url + '\\n'); return r; }`;
    // The Bybit files are loaded with require() (no top-level await): the CommonJS cache must not hold ccxt's bundle either.
    const script = `import { register, createRequire } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)})); const m = await import(${JSON.stringify(new URL('./ccxt-bybit.ts', import.meta.url).href)}); const cache = Object.keys(createRequire(import.meta.url).cache); console.log(m.ccxtSource, cache.filter((k) => /ccxt[\\/]dist[\\/]ccxt\\.cjs$/.test(k)).length);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out.trim()).toBe('bybit-module 0');
    const urls = readFileSync(trace, 'utf8').split('\n');
    expect(urls.filter((u) => u.endsWith('/ccxt/js/ccxt.js') || u.endsWith('/ccxt/js/src/binance.js'))).toEqual([]);
  });

  it('the burst bucket lets 50 units out at once, then holds ccxt’s steady rate (rateLimitMs per unit)', async () => {
    const exchange = new loaded.CcxtBybit({ enableRateLimit: true, rateLimit: 20, tokenBucket: loaded.burstBucket(50) });
    const t0 = performance.now();
    const released: number[] = [];
    await Promise.all(Array.from({ length: 14 }, (_, k) => exchange.throttle(5).then(() => (released[k] = performance.now() - t0))));
    // 11 cost-5 requests before the bucket is empty (the 11th takes it to -5), then one every 5 × 20 ms.
    const burst = released.slice(0, 11), after = released.slice(11);
    expect(Math.max(...burst)).toBeLessThan(Math.min(...after));
    after.forEach((t, k) => expect(t).toBeGreaterThanOrEqual(100 * (k + 1) - 5));
  });
});

