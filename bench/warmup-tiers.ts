/**
 * The set-up of the warm-up tier benchmarks (`warmup-redis`, `warmup-gapfill`): a paper live runner of regime-kelly
 * on a GBDT's signals (onnxruntime; features from bars, funding, DVOL and BTC as reference) over real Bybit 4h bars of
 * BTCUSDT, ETHUSDT and SOLUSDT (Binance spot's bars standing in: the shared data has no Bybit SOLUSDT) from 2025-06-01, served by the local v5 venue on a virtual clock, its runner state in a real Redis
 * (REDIS_URL, else `scripts/services.sh env`: start the services first). Lives of the run are started in one process,
 * each with fresh signal-stage and runner objects, as a restarted process would build them.
 */
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fitExperimentRegimes, type ExperimentConfig, type ExperimentModel } from '../src/backtest/run-experiment.js';
import { parseBacktestConfig } from '../src/config/backtest-config.js';
import { DEFAULT_DEADLINES } from '../src/config/network-deadlines.js';
import { timeframeMs } from '../src/core/time.js';
import { importPath, loadBars, MarketStore } from '../src/data/index.js';
import type { StateSnapshot, StateStore } from '../src/engine/state-store.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline } from '../src/features/index.js';
import { LiveBarFeed } from '../src/live/bar-feed.js';
import { VirtualTime } from '../src/live/live-clock.js';
import { LiveRunner, type LiveRunSummary } from '../src/live/live-runner.js';
import { liveSetup, type LiveSetup } from '../src/live/live-setup.js';
import { openLiveSignals } from '../src/live/live-signals.js';
import { VenueSignalInputs } from '../src/live/venue-signal-inputs.js';
import { loadOnnxModel } from '../src/models/index.js';
import { StoreSignalInputs } from '../src/signals/signal-input-source.js';
import { RedisStateStore } from '../src/state/index.js';
import { STRATEGIES } from '../src/strategies/index.js';
import { BybitMarketDataClient } from '../src/adapters/bybit/bybit-market-data-client.js';
import { servicesEnv } from '../scripts/services-env.js';
import { BybitV5Server } from '../test/support/bybit-v5-server.js';
import { readSharedFunding } from '../test/support/bybit-test-data.js';
import { serverKlines } from '../test/support/live-harness.js';
import { modelInputsStore, regimeKellyModelExperiment, tinyModel } from '../test/support/live-model.js';
import { sharedDataDir } from '../test/support/shared-data.js';

export const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

/** A full garbage collection (V8's `gc`, exposed at run time). */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();
export const TF = timeframeMs('4h');
const START = Date.UTC(2025, 5, 1);

/** A state store whose saves can be switched off (Redis unreachable for a while: the saved state then lags the run). */
export class SwitchableStore implements StateStore {
  saving = true;
  constructor(readonly inner: StateStore) {}
  async saveAll(runner: string, snapshots: Readonly<Record<string, StateSnapshot>>): Promise<void> {
    if (!this.saving) throw new Error('saves switched off (simulated outage)');
    return this.inner.saveAll(runner, snapshots);
  }
  load: StateStore['load'] = (runner, instrument, expect) => this.inner.load(runner, instrument, expect);
  instruments = (runner: string) => this.inner.instruments(runner);
  clear = (runner: string) => this.inner.clear(runner);
  close = () => this.inner.close();
}

export interface WarmupBench {
  /** One life of the run in its folder (a fresh start at the first call), `bars` live bars. */
  life(bars: number): Promise<LiveRunSummary>;
  readonly store: SwitchableStore;
  readonly warmupBars: number;
  close(): Promise<void>;
}

/** Builds the run (store, model, venue, Redis) with bars up to `liveBars` past the start. */
export async function warmupBench(key: string, liveBars: number): Promise<WarmupBench> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-warmup-'));
  const db = join(dir, 'inputs.duckdb');
  await modelInputsStore(db, ['BTCUSDT', 'ETHUSDT']);
  {
    // The shared data has no Bybit SOLUSDT bars: Binance spot's stand in (imported under the venue bybit); SOL's
    // USDT-M funding starts 2025-02-01, hence a run from 2025-06-01 (warm-up from early March).
    const s = await MarketStore.open(db);
    try {
      await importPath(s, join(sharedDataDir(), 'binance-spot', 'SOLUSDT-4h.csv.gz'), { venue: 'bybit' });
      await importPath(s, join(sharedDataDir(), 'binance-futures', 'SOLUSDT-funding.csv.gz'), { venue: 'binance-futures' });
    } finally {
      s.close();
    }
  }
  const { onnx, card } = await tinyModel(db);
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const parsed = parseBacktestConfig(regimeKellyModelExperiment('bench-warmup', SYMBOLS, '2025-06-01', '2025-08-31', 'tiny-gbdt'), 'bench-warmup.json');
  if (!parsed.success) throw parsed.error;
  const config = parsed.data as unknown as ExperimentConfig;
  const store = await MarketStore.open(db, { readOnly: true });
  const regimes = await fitExperimentRegimes(store, config, liveSetup({ ...config, regime: undefined } as ExperimentConfig, STRATEGIES).instruments);
  const setup: LiveSetup = liveSetup(config, STRATEGIES, { regimes });
  const warmupBars = setup.warmupBars;
  const frame = await loadBars(store, { venue: 'bybit', symbols: SYMBOLS, timeframe: '4h', start: START - warmupBars * TF, end: START + (liveBars + 2) * TF, missing: 'error' });
  const time = new VirtualTime(START);
  const funding = Object.fromEntries(SYMBOLS.map((s) => [s, readSharedFunding(`binance-futures/${s}-funding.csv.gz`)]));
  const server = await BybitV5Server.start({ klines: serverKlines(frame), funding, now: () => time.current() });
  const url = process.env['REDIS_URL'] ?? servicesEnv()['REDIS_URL'];
  if (url === undefined) throw new Error('bench: no REDIS_URL (start the services: bash scripts/services.sh up)');
  const opened = await RedisStateStore.openResilient(url, DEFAULT_DEADLINES);
  if (opened.error !== undefined) throw new Error(`bench: ${opened.error} (start the services: bash scripts/services.sh up)`);
  const stateStore = new SwitchableStore(opened.store);
  await stateStore.clear(key);
  const runDir = join(dir, 'run');
  const loadModel = async (): Promise<ExperimentModel> => {
    const model = await loadOnnxModel(onnx, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
    return { model, card: { name: card.name, dataRange: { from: '2022-01-01', to: '2023-01-01' }, gatesPassed: true, onnxSha256: card.onnxSha256 }, version: 'v1', close: () => model.close() };
  };
  return {
    store: stateStore,
    warmupBars,
    async life(bars) {
      // A restart is a new process with a fresh heap: the garbage of earlier lives in this process is collected first.
      collectGarbage();
      const market = new BybitMarketDataClient({ apiUrl: server.url, rateLimitMs: 1 });
      const feed = new LiveBarFeed(market, SYMBOLS, '4h', TF, time, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
      const source = new VenueSignalInputs(market, new StoreSignalInputs(store, { venue: 'bybit', fundingVenue: 'binance-futures' }));
      const signals = await openLiveSignals({ ...setup, modelColumn: setup.modelColumn! }, { loadModel, source, from: START, now: () => 0 });
      try {
        const runner = new LiveRunner(
          { runId: 'bench', mode: 'paper', instruments: setup.instruments, timeframe: '4h', initialCash: setup.initialCash, leverage: setup.leverage, dir: runDir, startTs: START, maxBars: bars, warmupBars, paper: { fees: setup.fees, slippage: setup.slippage }, config: setup.config, stateStore: { store: stateStore, key, maxAgeMs: 30 * 86_400_000 } },
          { feed, pacer: time, strategy: setup.strategy, signals: signals.signals },
        );
        return await runner.run();
      } finally {
        await signals.close();
        await market.close();
      }
    },
    async close() {
      await stateStore.clear(key);
      await opened.store.close();
      await server.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
