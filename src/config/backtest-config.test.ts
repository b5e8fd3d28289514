import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BacktestConfig, ConfigError, formatJsonPath, loadConfig, parseBacktestConfig } from './backtest-config.js';

const minimal = {
  name: 'demo',
  strategy: 'sma-crossover',
  data: { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2022-01-01', end: '2025-09-01' },
  slippage: { model: 'fixed', bps: 2 },
};

function parse(raw: unknown) {
  return parseBacktestConfig(raw, 'demo.json');
}

function failure(raw: unknown): ConfigError {
  const r = parse(raw);
  if (r.success) throw new Error('expected a failure');
  return r.error;
}

describe('BacktestConfig', () => {
  it('fills every default in one place and derives periodsPerYear from the timeframe', () => {
    const r = parse(minimal);
    expect(r.success).toBe(true);
    if (!r.success) return;
    const c = r.data;
    expect(c.params).toEqual({});
    expect(c.data.missingBars).toBe('error');
    expect(c.instruments).toBe('bybit-linear');
    expect(c.funding).toEqual({ venue: 'binance-futures', fallback: { kind: 'constant', rate: 0.0001 }, strict: false });
    expect(c.columns).toEqual({});
    expect(c.initialCash).toBe(10_000);
    expect(c.leverage).toBe(1);
    expect(c.seed).toBe(1);
    expect(c.fees).toBeUndefined();
    expect(c.periodsPerYear).toBe(2190);
    expect(parse({ ...minimal, data: { ...minimal.data, timeframe: '1h' } })).toMatchObject({ data: { periodsPerYear: 8760 } });
  });

  it('deep-freezes the parsed config', () => {
    const r = parse({ ...minimal, params: { fast: 5 } });
    if (!r.success) throw r.error;
    expect(Object.isFrozen(r.data)).toBe(true);
    expect(Object.isFrozen(r.data.data.symbols)).toBe(true);
    expect(Object.isFrozen(r.data.params)).toBe(true);
    expect(() => ((r.data.data.symbols as string[])[0] = 'X')).toThrow(TypeError);
  });

  it('rejects an unknown key at the top level and nested, naming the JSON path', () => {
    const top = failure({ ...minimal, leverag: 2 });
    expect(top.code).toBe('invalid_config');
    expect(top.context['path']).toBe('$.leverag');
    expect(top.message).toBe('demo.json: $.leverag: unknown key "leverag": remove it or fix its spelling');
    const nested = failure({ ...minimal, data: { ...minimal.data, timeFrame: '4h' } });
    expect(nested.context['path']).toBe('$.data.timeFrame');
    const slippage = failure({ ...minimal, slippage: { model: 'fixed', bps: 2, impactBps: 3 } });
    expect(slippage.context['path']).toBe('$.slippage.impactBps');
  });

  it('names the path, the rule and the actual value of a bad value', () => {
    const e = failure({ ...minimal, data: { ...minimal.data, timeframe: '4 hours' } });
    expect(e.context).toMatchObject({ file: 'demo.json', path: '$.data.timeframe' });
    expect(e.message).toBe('demo.json: $.data.timeframe: must look like 1m, 4h or 1d, was "4 hours"');
    expect(failure({ ...minimal, data: { ...minimal.data, symbols: ['BTCUSDT', 'btc'] } }).context['path']).toBe('$.data.symbols[1]');
    expect(failure({ ...minimal, data: { ...minimal.data, end: '2021-01-01' } }).message).toContain('$.data.end: must be after data.start, was "2021-01-01"');
    expect(failure({ ...minimal, initialCash: -5 }).message).toContain('$.initialCash');
    expect(failure({ ...minimal, slippage: undefined }).message).toContain('$.slippage');
    expect(failure({ ...minimal, slippage: { model: 'magic' } }).context['path']).toBe('$.slippage.model');
    expect(failure({ ...minimal, funding: { fallback: { kind: 'constant' } } }).message).toContain('$.funding.fallback.rate: Invalid input: expected number, received undefined, was missing');
  });

  it('accepts the volume slippage model with its defaults, fees overrides and column sources', () => {
    const r = parse({
      ...minimal,
      slippage: { model: 'volume', baseBps: 1, impactBps: 50 },
      fees: { taker: 0.0004 },
      instruments: 'spot',
      columns: { signal: { source: 'predictions', model: 'm1' }, mom: { source: 'feature', feature: 'log-momentum', params: { lookback: 42 } } },
    });
    if (!r.success) throw r.error;
    expect(r.data.slippage).toEqual({ model: 'volume', baseBps: 1, impactBps: 50, exponent: 0.5, maxBps: 500 });
    expect(r.data.fees).toEqual({ taker: 0.0004 });
    expect(r.data.columns['signal']).toEqual({ source: 'predictions', model: 'm1' });
  });

  it('requires the name to match the file name', () => {
    const r = parseBacktestConfig(minimal, 'experiments/other.json');
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.message).toBe('experiments/other.json: $.name: name must equal the file name without .json ("other"), was "demo"');
  });

  it('formats JSON paths', () => {
    expect(formatJsonPath(['data', 'symbols', 0])).toBe('$.data.symbols[0]');
    expect(formatJsonPath(['columns', 'a-b'])).toBe('$.columns["a-b"]');
    expect(formatJsonPath([])).toBe('$');
  });

  it('is a strict zod schema (unknown keys fail through safeParse too)', () => {
    expect(BacktestConfig.safeParse({ ...minimal, extra: 1 }).success).toBe(false);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-config-'));

  it('reads a file into a typed config', async () => {
    const file = join(dir, 'demo.json');
    writeFileSync(file, JSON.stringify(minimal));
    const r = await loadConfig(file);
    expect(r.success && r.data.data.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
  });

  it('returns ConfigError io / invalid_json naming the file', async () => {
    const missing = await loadConfig(join(dir, 'nope.json'));
    expect(!missing.success && missing.error.code).toBe('io');
    expect(!missing.success && missing.error.context['file']).toBe(join(dir, 'nope.json'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": ');
    const broken = await loadConfig(file);
    expect(!broken.success && broken.error).toBeInstanceOf(ConfigError);
    expect(!broken.success && broken.error.code).toBe('invalid_json');
    expect(!broken.success && broken.error.message).toMatch(/broken\.json: \$: not valid JSON/);
  });

  it('loads every experiment file of the repository', async () => {
    for (const name of ['buy-and-hold', 'sma-crossover', 'sma-crossover-bybit', 'signal-column', 'signal-column-momentum']) {
      const r = await loadConfig(`experiments/${name}.json`);
      if (!r.success) throw r.error;
      expect(r.data.name).toBe(name);
    }
  });
});
