/**
 * Pre-trade risk end to end on the real shared data: experiments/sma-crossover.json (Binance spot 4h BTC/ETH/SOL,
 * 2022-01 .. 2025-09, leverage 2) run through runExperiment without a `risk` block, with a block that sets no limit,
 * and with the emulated system's rule (drawdown > 5 % flattens, then REDUCING).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestResult } from '../../src/backtest/backtest-result.js';
import { runExperiment } from '../../src/backtest/run-experiment.js';
import { loadConfig, parseBacktestConfig, type BacktestConfig } from '../../src/config/backtest-config.js';
import { importPath, MarketStore } from '../../src/data/index.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { sharedDataDir } from '../support/shared-data.js';

describe('pre-trade risk in an experiment (real shared data)', () => {
  let store: MarketStore;
  let config: BacktestConfig;
  let baseline: BacktestResult;

  const withRisk = (risk: unknown): BacktestConfig => {
    const raw = JSON.parse(readFileSync('experiments/sma-crossover.json', 'utf8')) as Record<string, unknown>;
    const r = parseBacktestConfig({ ...raw, risk }, 'sma-crossover.json');
    if (!r.success) throw r.error;
    return r.data;
  };

  beforeAll(async () => {
    const root = sharedDataDir();
    store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-spot'));
    for (const symbol of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) await importPath(store, join(root, 'binance-futures', `${symbol}-funding.csv.gz`));
    const loaded = await loadConfig('experiments/sma-crossover.json');
    if (!loaded.success) throw loaded.error;
    config = loaded.data;
    baseline = await runExperiment(config, { store, strategies: STRATEGIES });
  }, 120_000);
  afterAll(() => store?.close());

  it('a risk block without limits changes nothing (same fills, trades, equity, notes)', async () => {
    const off = await runExperiment(withRisk({ maxDrawdown: null }), { store, strategies: STRATEGIES });
    expect(baseline.fills.length).toBeGreaterThan(50);
    expect(off.fills).toEqual(baseline.fills);
    expect(off.trades).toEqual(baseline.trades);
    expect(Array.from(off.equity.value)).toEqual(Array.from(baseline.equity.value));
    expect(off.notes).toEqual(baseline.notes);
    expect(off.risk).toBeUndefined();
    expect(baseline.risk).toBeUndefined();
  }, 60_000);

  it('a drawdown beyond 5 % flattens every position at the next bar and the run stays flat (REDUCING)', async () => {
    const r = await runExperiment(withRisk({}), { store, strategies: STRATEGIES });
    const risk = r.risk!;
    expect(risk.stateChanges).toHaveLength(1);
    const change = risk.stateChanges[0]!;
    expect(change).toMatchObject({ from: 'ACTIVE', to: 'REDUCING', trigger: 'max_drawdown' });
    expect(risk.flattens).toHaveLength(1);
    const flatten = risk.flattens[0]!;
    expect(flatten.ts).toBe(change.ts);
    expect(flatten.orders.length).toBeGreaterThan(0);

    // bar k closes at the flatten: identical to the run without risk up to there, then flat from bar k + 1 on
    const k = Array.from(r.equity.ts).indexOf(change.ts);
    expect(k).toBeGreaterThan(0);
    expect(Array.from(r.equity.value.subarray(0, k + 1))).toEqual(Array.from(baseline.equity.value.subarray(0, k + 1)));
    const peak = Math.max(...Array.from(r.equity.value.subarray(0, k + 1)), config.initialCash);
    expect((peak - r.equity.value[k]!) / peak).toBeGreaterThan(0.05);
    expect((peak - r.equity.value[k - 1]!) / peak).toBeLessThanOrEqual(0.05);
    expect(r.bars.some((b) => b.position[k] !== 0)).toBe(true);
    for (const b of r.bars) expect(Array.from(b.position.subarray(k + 1)).every((q) => q === 0)).toBe(true);
    const flattenFills = r.fills.filter((f) => flatten.orders.includes(f.clientOrderId));
    expect(flattenFills.length).toBe(flatten.orders.length);
    expect(flattenFills.every((f) => f.ts === change.ts)).toBe(true); // the next bar opens when bar k closes

    // the strategy keeps asking (and is denied) in REDUCING; the notes say so
    expect(risk.denials.trading_state).toBeGreaterThan(0);
    expect(r.notes.some((n) => n.startsWith('risk: trading state ACTIVE -> REDUCING at ') && n.includes('(max_drawdown): max_drawdown 0.05 < '))).toBe(true);
    expect(r.notes).toContain(`risk: ${risk.denials.trading_state} order(s) denied before reaching the venue (trading_state ${risk.denials.trading_state})`);
  }, 60_000);
});
