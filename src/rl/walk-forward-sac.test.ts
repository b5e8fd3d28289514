import { describe, expect, it } from 'vitest';
import { makeFrame, type Ohlcv } from '../../test/support/frames.js';
import { backtestSpec } from '../../test/support/engine-scenarios.js';
import { oneStateRegime, RL_BTC, signalMarket } from '../../test/support/rl-market.js';
import type { BacktestSpec } from '../backtest/index.js';
import { parseCurriculumConfig } from './env/curriculum.js';
import { parseSacConfig } from './sac-config.js';
import { walkForwardSac, type SacWalkForwardResult } from './walk-forward-sac.js';

const BARS = 900;
const { frame, signal } = signalMarket(BARS, 21);
const spec = backtestSpec(frame, [RL_BTC], { name: 'wf-sac', columns: { signal: [signal] }, leverage: 2, dataSources: [], seed: 1 });
const strategyParams = { minRebalance: 0.01, risk: { horizonBars: 1, ic: { window: 30, minPairs: 10 } } };
const walkForward = { folds: 2, initialTrainFraction: 0.5, window: 'expanding' as const, rollingBars: 3000, purgeGap: 10, embargo: 0 };

/** `spec` with every bar from `from` on replaced (prices × 1.3 and a different signal): the future of a fold changed. */
function poisonedFrom(from: number): BacktestSpec {
  const close = Array.from(frame.close[0]!, (c, k) => (k >= from ? c * 1.3 : c));
  const bars: Ohlcv[] = close.map((c, k) => {
    const o = k === 0 ? c : close[k - 1]!;
    return [o, Math.max(o, c), Math.min(o, c), c, 1000];
  });
  const poisoned = makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars, symbols: ['BTCUSDT'] });
  const s = Float64Array.from(signal, (x, k) => (k >= from ? -x : x));
  return backtestSpec(poisoned, [RL_BTC], { name: 'wf-sac', columns: { signal: [s] }, leverage: 2, dataSources: [], seed: 1 });
}

async function run(s: BacktestSpec): Promise<SacWalkForwardResult> {
  const sac = parseSacConfig({ seed: 11, hiddenSizes: [16, 16], batchSize: 32, randomSteps: 40, learningStarts: 40 });
  const curriculum = parseCurriculumConfig({ episodeBars: 100, warmupBars: 40, stages: [{ steps: 60, feeScale: 0, episodes: 'calm' }, { steps: 60, feeScale: 1, episodes: 'all' }] });
  if (!sac.success) throw sac.error;
  if (!curriculum.success) throw curriculum.error;
  return walkForwardSac({ spec: s, regime: oneStateRegime(), strategyParams, sac: sac.data, curriculum: curriculum.data, walkForward, horizonBars: 1, warmupBars: 60 });
}

describe('walkForwardSac', () => {
  it('purged folds, OOS table SAC vs PURE_KELLY vs flat through the engine, deterministic, fold 0 blind to its test bars and after', async () => {
    const a = await run(spec);
    expect(a.folds.map((f) => [f.trainFrom, f.trainEnd, f.testStart, f.testEnd])).toEqual([[0, 440, 450, 675], [0, 665, 675, 900]]);
    expect(a.folds.map((f) => f.gradientSteps)).toEqual([[21, 60], [21, 60]]);
    // every variant backtests exactly the test bars (warm-up replayed before them, not traded)
    for (const f of a.folds) for (const r of Object.values(f.results)) expect(r.equity.ts[0]).toBe(frame.ts[f.testStart]! + 4 * 3_600_000);
    // the trained actor sized through the cascade: RL tiers appear in the SAC run, never in PURE_KELLY's
    const tiers = (v: 'SAC' | 'PURE_KELLY') => new Set(a.folds.flatMap((f) => (f.results[v].annotations?.tiers ?? []).map((t) => t.tier)));
    expect([...tiers('SAC')].some((t) => t === 'FULL_RL' || t === 'BLENDED')).toBe(true);
    expect([...tiers('PURE_KELLY')].some((t) => t === 'FULL_RL' || t === 'BLENDED')).toBe(false);
    const byVariant = Object.fromEntries(a.scores.map((s) => [s.variant, s]));
    expect(Object.keys(byVariant)).toEqual(['SAC', 'PURE_KELLY', 'flat']);
    expect(byVariant['flat']).toMatchObject({ sharpe: null, totalReturn: 0, maxDrawdown: 0, deflatedSharpe: null, observations: 2 * 224 });
    for (const v of ['SAC', 'PURE_KELLY']) {
      expect(byVariant[v]!.observations).toBe(448);
      expect(Number.isFinite(byVariant[v]!.sharpe)).toBe(true);
      expect(byVariant[v]!.deflatedSharpe).toBeGreaterThanOrEqual(0);
      expect(byVariant[v]!.deflatedSharpe).toBeLessThanOrEqual(1);
    }
    expect(byVariant['SAC']!.totalReturn).not.toBe(byVariant['PURE_KELLY']!.totalReturn);

    const b = await run(spec);
    expect(b.scores).toEqual(a.scores);
    expect(Buffer.from(b.folds[1]!.actor).equals(Buffer.from(a.folds[1]!.actor))).toBe(true);

    // changing every bar from fold 0's test start on leaves fold 0's training (and so its actor) unchanged,
    // while changing every bar changes it (the actor does depend on its training bars)
    const c = await run(poisonedFrom(450));
    expect(Buffer.from(c.folds[0]!.actor).equals(Buffer.from(a.folds[0]!.actor))).toBe(true);
    const d = await run(poisonedFrom(0));
    expect(Buffer.from(d.folds[0]!.actor).equals(Buffer.from(a.folds[0]!.actor))).toBe(false);
  }, 120_000);
});
