import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/run-backtest.js';
import { SeededRandom } from '../../models/index.js';
import { regimeKelly } from '../../strategies/index.js';
import { createSacAgent } from '../sac-agent.js';
import { parseSacConfig } from '../sac-config.js';
import { episodes, episodeSpec, parseCurriculumConfig, trainCurriculum } from './curriculum.js';
import { backtestSpec } from '../../../test/support/engine-scenarios.js';
import { makeFrame, type Ohlcv } from '../../../test/support/frames.js';
import { oneStateRegime, RL_BTC } from '../../../test/support/rl-market.js';

/** 4h bars: calm (0.3 % per bar) for the first `calm` bars, then volatile (2 %); signal = next return + noise. */
function regimeShiftSpec(calm: number, volatile: number) {
  const random = new SeededRandom(12);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(random.nextFloat(), 1e-12))) * Math.cos(2 * Math.PI * random.nextFloat());
  const n = calm + volatile;
  const returns = Float64Array.from({ length: n }, (_, k) => (k < calm ? 0.003 : 0.02) * normal());
  const signal = Float64Array.from({ length: n }, (_, k) => (k + 1 < n ? 0.3 * returns[k + 1]! + 0.002 * normal() : 0));
  const close: number[] = [100];
  for (let k = 1; k < n; k++) close.push(close[k - 1]! * Math.exp(returns[k]!));
  const bars: Ohlcv[] = close.map((c, k) => {
    const o = k === 0 ? c : close[k - 1]!;
    return [o, Math.max(o, c), Math.min(o, c), c, 1000];
  });
  const frame = makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars, symbols: ['BTCUSDT'] });
  return backtestSpec(frame, [RL_BTC], { name: 'curriculum', columns: { signal: [signal] }, leverage: 2, dataSources: [], seed: 1 });
}

const spec = regimeShiftSpec(200, 200);
const strategyParams = { minRebalance: 0.01, risk: { horizonBars: 1, ic: { window: 20, minPairs: 10 } } };

describe('curriculum', () => {
  it('declares the default schedule (fees 0 → full, then calm → volatile) and refuses unknown keys', () => {
    const c = parseCurriculumConfig({});
    expect(c.success && c.data.stages.map((s) => [s.feeScale, s.episodes])).toEqual([[0, 'calm'], [1, 'calm'], [1, 'volatile'], [1, 'all']]);
    const bad = parseCurriculumConfig({ stages: [{ steps: 10, feeScale: 2, episodes: 'calm' }] });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(bad.error.message).toMatch(/curriculum config \$\.stages\[0\]\.feeScale: /);
    expect(parseCurriculumConfig({ stage: [] }).success).toBe(false);
  });

  it('cuts episodes after the warm-up and labels them by realised volatility against the median', () => {
    const e = episodes(spec, 50, 30);
    expect(e.map((x) => [x.from, x.to])).toEqual([[30, 80], [80, 130], [130, 180], [180, 230], [230, 280], [280, 330], [330, 380]]);
    // episodes inside the calm part are calm, inside the volatile part volatile (the one straddling 200 is in between)
    expect(e.filter((x) => x.to <= 200).every((x) => x.label === 'calm')).toBe(true);
    expect(e.filter((x) => x.from >= 200).every((x) => x.label === 'volatile')).toBe(true);
    expect(() => episodes(spec, 500, 30)).toThrow(/hold warmupBars \+ episodeBars = 530 at least/);
  });

  it('an episode spec replays its warm-up, trades only its own bars, and scales the fees', () => {
    const [first] = episodes(spec, 100, 60);
    const strategy = () => regimeKelly(strategyParams, { regimes: [oneStateRegime()] });
    const full = runBacktest(episodeSpec(spec, first!, 60, 1), strategy());
    const free = runBacktest(episodeSpec(spec, first!, 60, 0), strategy());
    const half = runBacktest(episodeSpec(spec, first!, 60, 0.5), strategy());
    expect(full.equity.ts.length).toBe(100);
    expect(full.equity.ts[0]).toBe(spec.frame.ts[60]! + 4 * 3_600_000);
    expect(full.fills.length).toBeGreaterThan(5);
    expect(full.feesPaid).toBeGreaterThan(0);
    expect(free.feesPaid).toBe(0);
    // same first order (same equity until the first fee), then sizes drift apart with the fees paid
    expect([free.fills[0]!.ts, free.fills[0]!.quantity]).toEqual([full.fills[0]!.ts, full.fills[0]!.quantity]);
    expect(free.fills.every((f) => f.fee === 0)).toBe(true);
    expect(half.feesPaid).toBeGreaterThan(0);
    expect(half.feesPaid).toBeLessThan(full.feesPaid);
  });

  it('trains one agent through the stages on one replay buffer, deterministically', async () => {
    const curriculum = parseCurriculumConfig({ episodeBars: 40, warmupBars: 30, stages: [{ steps: 40, feeScale: 0, episodes: 'calm' }, { steps: 40, feeScale: 1, episodes: 'volatile' }] });
    if (!curriculum.success) throw curriculum.error;
    const run = async () => {
      const sac = parseSacConfig({ seed: 5, hiddenSizes: [16, 16], batchSize: 16, randomSteps: 30, learningStarts: 30 });
      if (!sac.success) throw sac.error;
      const agent = await createSacAgent(sac.data, { observationSize: 14, actionSize: 1 });
      const stages: number[] = [];
      const perStage = trainCurriculum(agent, { spec, regime: oneStateRegime(), strategyParams }, curriculum.data, { onProgress: (p) => stages.push(p.stage) });
      const w = agent.allWeights();
      agent.dispose();
      return { perStage, w, stages };
    };
    const [a, b] = [await run(), await run()];
    // learning starts once 30 transitions are stored (step 30 of stage 0); stage 1 continues on the same buffer
    expect(a.perStage).toEqual([11, 40]);
    expect(a.stages.filter((s) => s === 0).length).toBe(40);
    expect(a.stages.filter((s) => s === 1).length).toBe(40);
    expect(Buffer.from(a.w.buffer).equals(Buffer.from(b.w.buffer))).toBe(true);
  }, 60_000);
});
