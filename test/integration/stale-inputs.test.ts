/**
 * Staleness on real data: the Deribit DVOL series stops (every day after 2024-01-01 removed). Past the maximum age
 * (2 days after the last usable day ended) the DVOL features are NaN in both feature paths — no silent forward-fill —,
 * the signal stage emits one `stale_input` event, the regime-kelly strategy's circuit breaker opens on it
 * (EMERGENCY_FLAT, reason breaker_open), and the backtest's notes list the stale span.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FixedBpsSlippage, TableFundingModel } from '../../src/backtest/execution-models.js';
import { runBacktestWithSignals, type BacktestSpec } from '../../src/backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { importPath, loadBars, MarketStore, type BarFrame } from '../../src/data/index.js';
import type { FittedRegime } from '../../src/engine/strategy.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore, type FeatureInputs } from '../../src/features/index.js';
import { exportOnnx, fitGradientBoosting, loadOnnxModel, type OnnxModel } from '../../src/models/index.js';
import { labelStates, makeMsGarchModel } from '../../src/regime/index.js';
import { SignalStage } from '../../src/signals/index.js';
import { regimeKelly } from '../../src/strategies/index.js';
import { sharedDataDir } from '../support/shared-data.js';

const START = Date.UTC(2023, 9, 1);
const END = Date.UTC(2024, 2, 1);
const CUT = Date.UTC(2024, 0, 1); // DVOL days after this are gone
const DAY = 86_400_000;

describe('a stopped input (DVOL) on real BTC 4h bars', () => {
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  let inputs: FeatureInputs;
  let frame: BarFrame;
  let model: OnnxModel;

  beforeAll(async () => {
    const store = await MarketStore.open(':memory:');
    const root = sharedDataDir();
    await importPath(store, `${root}/binance-spot/BTCUSDT-4h.csv.gz`, { venue: 'binance-spot' });
    await importPath(store, `${root}/binance-futures/BTCUSDT-funding.csv.gz`, { venue: 'binance-futures' });
    await importPath(store, `${root}/deribit`);
    await store.query(`DELETE FROM external_series WHERE ts > make_timestamp(?::BIGINT * 1000)`, [CUT]);
    inputs = await featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'BTCUSDT', timeframe: '4h', start: START, end: END, fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
    frame = await loadBars(store, { venue: 'binance-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: START, end: END, missing: 'error' });
    store.close();
    const m = pipeline.computeBatch(inputs);
    const rows = 400;
    const target = Float64Array.from({ length: rows }, (_, t) => Math.log(inputs.close[t + 1]! / inputs.close[t]!));
    model = await loadOnnxModel(exportOnnx(fitGradientBoosting({ values: m.matrix.subarray(0, rows * m.columns), rows, columns: m.columns }, target, { seed: 3, rounds: 20, maxDepth: 3 }), { featureNames: pipeline.names, featureSpecHash: pipeline.hash }), {
      featureNames: pipeline.names,
      featureSpecHash: pipeline.hash,
    });
  }, 120_000);

  it('turns the DVOL features NaN past the maximum age, in the batch and the incremental path alike', () => {
    const m = pipeline.computeBatch(inputs);
    const dvolCols = pipeline.names.map((n, j) => [n, j] as const).filter(([n]) => n.startsWith('dvol'));
    expect(dvolCols.length).toBeGreaterThan(0);
    // the last day (2024-01-01) is usable from its end (01-02 00:00) and stale once older than 2 days: closes > 01-04 00:00
    const staleAt = CUT + DAY + 2 * DAY;
    const inc = pipeline.createIncremental({ timeframeMs: inputs.timeframeMs });
    let f = 0, d = 0, freshChecked = 0, staleChecked = 0;
    for (let t = 0; t < inputs.ts.length; t++) {
      const close = inputs.ts[t]! + inputs.timeframeMs;
      for (; f < inputs.funding!.ts.length && inputs.funding!.ts[f]! <= close; f++) inc.pushFunding(inputs.funding!.ts[f]!, inputs.funding!.rate[f]!);
      for (; d < inputs.dvol!.ts.length && inputs.dvol!.ts[d]! + DAY <= close; d++) inc.pushDvol(inputs.dvol!.ts[d]!, inputs.dvol!.value[d]!);
      const row = inc.update(inputs.ts[t]!, inputs.open[t]!, inputs.high[t]!, inputs.low[t]!, inputs.close[t]!, inputs.volume[t]!, inputs.referenceClose![t]!);
      for (const [, j] of dvolCols) expect(Object.is(row[j], m.matrix[t * m.columns + j])).toBe(true);
      if (close > staleAt) {
        staleChecked++;
        for (const [name, j] of dvolCols) expect(m.matrix[t * m.columns + j], `${name} at ${new Date(close).toISOString()}`).toBeNaN();
      } else if (close > Date.UTC(2023, 11, 1)) {
        freshChecked++;
        expect(Number.isFinite(m.matrix[t * m.columns + dvolCols[0]![1]])).toBe(true);
      }
    }
    expect(staleChecked).toBeGreaterThan(300);
    expect(freshChecked).toBeGreaterThan(100);
  });

  it('emits one stale_input event, opens the strategy breaker, and lists the span in the notes', async () => {
    const one = makeMsGarchModel({ mean: [0], omega: [1e-4], transition: [[1]] });
    const regime: FittedRegime = {
      instrument: 'BTCUSDT-LINEAR.BYBIT', symbol: 'BTCUSDT', model: one, labels: labelStates(one), initialVariance: 1e-4, returnScale: 1,
      fitStart: START - 100 * 4 * 3_600_000, fitEnd: START, returns: 99, logLikelihood: 0, converged: true, seed: 1,
    };
    const spec: BacktestSpec = {
      name: 'stale', instruments: [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!], frame, initialCash: 10_000, leverage: 2, slippage: new FixedBpsSlippage(2),
      funding: new TableFundingModel([null], { kind: 'zero' }), periodsPerYear: 2190, dataSources: [], seed: 1, config: {},
    };
    const stage = new SignalStage(pipeline, model, [inputs]);
    const r = await runBacktestWithSignals(spec, regimeKelly({ signalScale: 0.01, risk: { breaker: { cooldownMs: 30 * DAY, drawdown: { enabled: false }, consecutiveLosses: { enabled: false } } } }, { regimes: [regime] }), { stage, column: 'signal' });
    const staleAt = CUT + 3 * DAY;
    expect(stage.staleEvents).toEqual([{ instrument: 0, input: 'dvol', lastValueTs: CUT, barTs: staleAt + 4 * 3_600_000 }]);
    const opened = (r.annotations?.tiers ?? []).find((x) => x.reason === 'breaker_open');
    expect(opened).toBeDefined();
    expect(opened!.ts).toBe(staleAt + 4 * 3_600_000);
    // the same run with the breaker's stale-data trigger off never opens it: the stale input is what opened it
    const off = await runBacktestWithSignals(spec, regimeKelly({ signalScale: 0.01, risk: { breaker: { cooldownMs: 30 * DAY, drawdown: { enabled: false }, consecutiveLosses: { enabled: false }, staleData: { enabled: false } } } }, { regimes: [regime] }), { stage: new SignalStage(pipeline, model, [inputs]), column: 'signal' });
    expect((off.annotations?.tiers ?? []).some((x) => x.reason === 'breaker_open')).toBe(false);
    expect(r.notes).toContain(`stale input dvol for BTCUSDT-LINEAR.BYBIT: from ${new Date(staleAt + 4 * 3_600_000).toISOString()} to the end (last value ${new Date(CUT).toISOString()}): its features were NaN`);
  });

  it('the cross-asset reference is bridged over one missing bar, then NaN and stale until it returns', async () => {
    const store = await MarketStore.open(':memory:');
    const root = sharedDataDir();
    await importPath(store, `${root}/binance-spot`);
    await importPath(store, `${root}/binance-futures/ETHUSDT-funding.csv.gz`, { venue: 'binance-futures' });
    await importPath(store, `${root}/deribit`);
    const H4 = 4 * 3_600_000, GAP = Date.UTC(2024, 0, 10);
    // BTC (the reference) loses its bars of 00:00, 04:00 and 08:00 on 2024-01-10
    await store.query(`DELETE FROM bar_data WHERE series_id IN (SELECT id FROM bar_series WHERE symbol = 'BTCUSDT') AND ts >= make_timestamp(?::BIGINT * 1000) AND ts < make_timestamp(?::BIGINT * 1000)`, [GAP, GAP + 3 * H4]);
    const eth = await featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'ETHUSDT', timeframe: '4h', start: START, end: END, fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
    store.close();
    const at = (ms: number) => eth.ts.indexOf(ms);
    expect(eth.referenceClose![at(GAP)]).toBe(eth.referenceClose![at(GAP - H4)]); // bridged: one bar old
    expect(eth.referenceClose![at(GAP + H4)]).toBeNaN(); // two bars old: stale, not carried on
    expect(eth.referenceClose![at(GAP + 2 * H4)]).toBeNaN();
    expect(Number.isFinite(eth.referenceClose![at(GAP + 3 * H4)])).toBe(true);
    const stage = new SignalStage(pipeline, model, [eth]);
    for (let t = 0; t < eth.ts.length; t++) await stage.onBar(0, t);
    expect(stage.staleEvents.filter((e) => e.input === 'reference')).toEqual([{ instrument: 0, input: 'reference', lastValueTs: GAP, barTs: GAP + 2 * H4 }]);
    expect(stage.staleSpans().filter((x) => x.input === 'reference')).toEqual([{ instrument: 0, input: 'reference', from: GAP + 2 * H4, to: GAP + 4 * H4, lastValueTs: GAP }]);
  }, 120_000);
});
