/**
 * One engine, two clocks, with a model: regime-kelly on the signals of a GBDT served through onnxruntime (the
 * experiment's `model` column, features from bars, funding, DVOL and BTC as reference) and a 2-state MS-GARCH regime
 * fit, over real BTCUSDT/ETHUSDT 4h bars. The backtester (runExperiment, streaming the signal stage) and the live
 * runner in paper mode (bars polled through ccxt from the local v5 server on a fast clock; funding and BTC closes from
 * the venue's funding history and klines, DVOL from the store) give the same signals, decisions, orders and fills,
 * and `tm replay` of the journal reports no divergence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitExperimentRegimes, runExperiment, type ExperimentConfig, type ExperimentModel } from '../../src/backtest/run-experiment.js';
import { parseBacktestConfig } from '../../src/config/backtest-config.js';
import { timeframeMs } from '../../src/core/time.js';
import { importPath, loadBars, MarketStore } from '../../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../../src/features/index.js';
import { readJournal } from '../../src/live/journal.js';
import { LiveRunner } from '../../src/live/live-runner.js';
import { liveSetup, regimesToJson } from '../../src/live/live-setup.js';
import { openLiveSignals } from '../../src/live/live-signals.js';
import { replayJournal } from '../../src/live/replay.js';
import { VenueSignalInputs } from '../../src/live/venue-signal-inputs.js';
import { exportOnnx, fitGradientBoosting, loadOnnxModel } from '../../src/models/index.js';
import { predictColumn } from '../../src/signals/index.js';
import { StoreSignalInputs } from '../../src/signals/signal-input-source.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { readSharedFunding } from '../support/bybit-test-data.js';
import { serverKlines } from '../support/live-harness.js';
import { regimeKellyModelExperiment } from '../support/live-model.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { VirtualTime } from '../../src/live/live-clock.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const RAW = regimeKellyModelExperiment('live-model-parity', SYMBOLS, '2024-01-01', '2024-03-01');

describe('live runner (paper) with a model column and a regime fit vs backtester', () => {
  let store: MarketStore;
  let onnx: Uint8Array;
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const config = (() => {
    const parsed = parseBacktestConfig(RAW, 'live-model-parity.json');
    if (!parsed.success) throw parsed.error;
    return parsed.data as unknown as ExperimentConfig;
  })();
  const loadModel = async (): Promise<ExperimentModel> => {
    const model = await loadOnnxModel(onnx, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
    return { model, card: { name: 'test-gbdt', dataRange: { from: '2022-01-01', to: '2023-01-01' }, gatesPassed: false }, version: 'local-test', close: () => model.close() };
  };

  beforeAll(async () => {
    store = await MarketStore.open(':memory:');
    const root = sharedDataDir();
    for (const s of SYMBOLS) {
      await importPath(store, `${root}/bybit/${s}-4h.csv.gz`, { venue: 'bybit' });
      await importPath(store, `${root}/binance-futures/${s}-funding.csv.gz`, { venue: 'binance-futures' });
    }
    await importPath(store, `${root}/deribit`);
    // A small GBDT on BTC's 2022 rows (target: the next bar's log return); it only needs to be a real model.
    const x = await featureInputsFromStore(store, { venue: 'bybit', symbol: 'BTCUSDT', timeframe: '4h', start: Date.UTC(2022, 0, 1), end: Date.UTC(2023, 0, 1), fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
    const m = pipeline.computeBatch(x);
    const rows = x.ts.length - 1;
    const target = new Float64Array(rows);
    for (let t = 0; t < rows; t++) target[t] = Math.log(x.close[t + 1]! / x.close[t]!);
    const trees = fitGradientBoosting({ values: m.matrix.subarray(0, rows * m.columns), rows, columns: m.columns }, target, { seed: 7, rounds: 30, maxDepth: 3 });
    onnx = exportOnnx(trees, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
  }, 240_000);
  afterAll(() => store?.close());

  it('gives identical signals, orders and fills, and tm replay finds no divergence', async () => {
    const backtest = await runExperiment(config, { store, strategies: STRATEGIES, loadModel });
    expect(backtest.fills.length).toBeGreaterThan(5);

    const regimes = await fitExperimentRegimes(store, config, liveSetup({ ...config, regime: undefined } as ExperimentConfig, STRATEGIES).instruments);
    const setup = liveSetup(config, STRATEGIES, { regimes });
    expect(setup.modelColumn?.column).toBe('signal');
    const tf = timeframeMs('4h');
    const startTs = Date.UTC(2024, 0, 1);
    const warmup = setup.warmupBars;
    expect(warmup).toBeGreaterThanOrEqual(pipeline.warmupBars);
    const frame = await loadBars(store, { venue: 'bybit', symbols: SYMBOLS, timeframe: '4h', start: startTs - warmup * tf, end: Date.UTC(2024, 2, 1), missing: 'error' });
    const liveBars = frame.ts.length - warmup;

    // The local venue serves the bars, and Binance's funding history under the same symbols (the model's input).
    const time = new VirtualTime(startTs);
    const funding = Object.fromEntries(SYMBOLS.map((s) => [s, readSharedFunding(`binance-futures/${s}-funding.csv.gz`)]));
    const server = await BybitV5Server.start({ klines: serverKlines(frame), funding, now: () => time.current() });
    const market = new BybitMarketDataClient({ apiUrl: server.url, rateLimitMs: 1 });
    const feed = new LiveBarFeed(market, SYMBOLS, '4h', tf, time, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
    const source = new VenueSignalInputs(market, new StoreSignalInputs(store, { venue: 'bybit', fundingVenue: 'binance-futures' }));
    const opened = await openLiveSignals({ ...setup, modelColumn: setup.modelColumn! }, { loadModel, source, from: startTs, now: () => 0 });
    const dir = tempDir('tm-live-model-');
    try {
      const runner = new LiveRunner(
        { runId: 'mdl1', mode: 'paper', instruments: setup.instruments, timeframe: '4h', initialCash: setup.initialCash, leverage: setup.leverage, dir, startTs, maxBars: liveBars, warmupBars: warmup, paper: { fees: setup.fees, slippage: setup.slippage }, config: setup.config, regimes: regimesToJson(regimes) },
        { feed, pacer: time, strategy: setup.strategy, signals: opened.signals },
      );
      const summary = await runner.run();
      expect(summary.liveBars).toBe(liveBars);

      const liveFills = runner.kernel.fills.map((f) => [f.clientOrderId, f.side, f.quantity, f.price, f.fee]);
      const btFills = backtest.fills.map((f) => [f.clientOrderId.replace(/^[^_]+_/, 'mdl1_'), f.side, f.quantity, f.price, f.fee]);
      expect(liveFills).toEqual(btFills);

      // The journal's signals are the backtest stage's, bar for bar.
      const { records } = readJournal(`${dir}/journal.jsonl`);
      const bars = records.filter((r): r is Extract<typeof r, { k: 'bar' }> => r.k === 'bar' && r.warmup === undefined);
      expect(bars).toHaveLength(2 * liveBars);
      const model = await loadModel();
      let compared = 0;
      for (const [i, symbol] of SYMBOLS.entries()) {
        // The cache path (batch features → one ORT call over the stored inputs) equals the backtest's streaming stage.
        const x = await featureInputsFromStore(store, { venue: 'bybit', symbol, timeframe: '4h', start: frame.ts[0]!, end: Date.UTC(2024, 2, 1), fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
        const cached = await predictColumn(pipeline, model.model, x);
        for (const b of bars.filter((r) => r.i === i)) {
          const t = x.ts.indexOf(b.ts);
          expect(Object.is(b.s ?? NaN, cached[t]), `${symbol} ${new Date(b.ts).toISOString()}: live ${b.s}, cached ${cached[t]}`).toBe(true);
          if (Number.isFinite(b.s)) compared++;
        }
      }
      await model.close();
      expect(compared).toBe(2 * liveBars);
      const tiers = new Set((runner.kernel.annotations()?.tiers ?? []).map((t) => t.tier));
      expect(tiers.size).toBeGreaterThan(0);

      const report = replayJournal(`${dir}/journal.jsonl`, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0 });
      expect(report.liveDecisions).toBeGreaterThan(5);
    } finally {
      await opened.close();
      await market.close();
      await server.close();
    }
  }, 240_000);
});
