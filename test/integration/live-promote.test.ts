/**
 * Promote-to-live against the real MLflow + MinIO: a paper runner streaming `name@production` (BTCUSDT 4h, the
 * signal-column strategy) follows the alias. When the alias moves to version 2 the runner swaps at the next bar
 * boundary (journal: swap v1 → v2; every later signal is version 2's, exactly); a version 3 whose features do not
 * match is refused (journal, alert, counted) and the run stays on version 2; `rollback` returns to version 1 from the
 * next bar on and does not follow the alias back to version 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import type { ExperimentConfig } from '../../src/backtest/run-experiment.js';
import { registryModelSource } from '../../src/cli/model-packages.js';
import { parseBacktestConfig } from '../../src/config/backtest-config.js';
import { timeframeMs } from '../../src/core/time.js';
import { MarketStore } from '../../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../../src/features/index.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { readJournal } from '../../src/live/journal.js';
import { VirtualTime, type Pacer } from '../../src/live/live-clock.js';
import { LiveRunner } from '../../src/live/live-runner.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { openLiveSignals } from '../../src/live/live-signals.js';
import { ModelWatch } from '../../src/live/model-watch.js';
import { VenueSignalInputs } from '../../src/live/venue-signal-inputs.js';
import { loadOnnxModel } from '../../src/models/index.js';
import { loadExperimentModel } from '../../src/cli/model-packages.js';
import { publishModel, sha256Hex, type MlflowClient } from '../../src/registry/index.js';
import { serviceRegistry } from '../support/service-env.js';
import { predictColumn } from '../../src/signals/index.js';
import { StoreSignalInputs } from '../../src/signals/signal-input-source.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { readSharedFunding } from '../support/bybit-test-data.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { serverKlines, sharedFrame } from '../support/live-harness.js';
import { modelInputsStore, tinyModel } from '../support/live-model.js';
import { tempDir } from '../support/shared-data.js';

const tf = timeframeMs('4h');
const START = Date.UTC(2024, 2, 1);
const LIVE = 40;
const name = `tm-test-promote-${process.pid}-${Date.now().toString(36)}`;

describe('promote-to-live (real MLflow + MinIO)', () => {
  const dir = tempDir('tm-live-promote-');
  const db = join(dir, 'market.duckdb');
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  let mlflow: MlflowClient;
  const onnxOf: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    const registry = serviceRegistry();
    mlflow = registry.mlflow;
    const s3 = registry.s3;
    await modelInputsStore(db, ['BTCUSDT']);
    for (const [seed, version] of [[11, 'v1'], [12, 'v2']] as const) {
      const { onnx, card } = await tinyModel(db, name, seed);
      onnxOf[version] = onnx;
      await publishModel(mlflow, s3, { experiment: name, runName: version, card, onnxBytes: onnx, registeredModel: name });
    }
    // Version 3: a package for another feature set (the loader refuses it before anything runs it).
    const bad = new Uint8Array(randomBytes(1024));
    const { card } = await tinyModel(db, name, 13);
    await publishModel(mlflow, s3, { experiment: name, runName: 'v3', card: { ...card, featureNames: ['f1', 'f2'], featureSpecHash: 'a1b2c3d4e5f60718', onnxSha256: sha256Hex(bad) }, onnxBytes: bad, registeredModel: name });
    await mlflow.setAlias(name, 'production', '1');
  }, 240_000);
  afterAll(async () => {
    await mlflow?.deleteRegisteredModel(name).catch(() => undefined);
  });

  it('swaps at the next bar boundary, refuses a bad version, rolls back', async () => {
    const raw = {
      name: 'live-promote', strategy: 'signal-column', params: { column: 'signal', allocation: 0.3 },
      data: { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-03-01', end: '2025-01-01' },
      instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } },
      columns: { signal: { source: 'model', model: `${name}@production` } }, initialCash: 100000, leverage: 3, slippage: { model: 'fixed', bps: 2 }, seed: 1,
    };
    const parsed = parseBacktestConfig(raw, 'live-promote.json');
    if (!parsed.success) throw parsed.error;
    const setup = liveSetup(parsed.data as unknown as ExperimentConfig, STRATEGIES);
    const frame = sharedFrame('2023-09-01T00:00:00Z', 1200);
    const time = new VirtualTime(START);
    const server = await BybitV5Server.start({ klines: serverKlines(frame), funding: { BTCUSDT: readSharedFunding('binance-futures/BTCUSDT-funding.csv.gz') }, now: () => time.current() });
    const market = new BybitMarketDataClient({ apiUrl: server.url, rateLimitMs: 1 });
    const store = await MarketStore.open(db, { readOnly: true });
    const source = new VenueSignalInputs(market, new StoreSignalInputs(store, { venue: 'bybit', fundingVenue: 'binance-futures' }));
    const opened = await openLiveSignals({ ...setup, modelColumn: setup.modelColumn! }, { loadModel: loadExperimentModel, source, from: START, now: () => 0 });
    expect(opened.models[0]!.version).toBe('v1');
    const runDir = join(dir, 'run');
    let runner: LiveRunner | undefined;
    // The clock is paced by the test: after 10 live bars the alias moves to 2, after 20 to 3, after 30 a rollback is asked.
    const closed = () => Math.floor((time.current() - START) / tf);
    // Engine time (the close of the last bar the runner processed) when each step ran.
    const stepAt: number[] = [];
    const steps: [number, () => Promise<void>][] = [
      [10, () => mlflow.setAlias(name, 'production', '2')],
      [20, () => mlflow.setAlias(name, 'production', '3')],
      [30, async () => runner!.requestRollback()],
    ];
    const pacer: Pacer = {
      now: () => time.now(),
      interrupt: () => time.interrupt(),
      async waitUntil(t) {
        const ok = await time.waitUntil(t);
        while (steps.length > 0 && closed() >= steps[0]![0] + 1) {
          stepAt.push(runner!.kernel.now());
          await steps.shift()![1]();
        }
        return ok;
      },
    };
    const feed = new LiveBarFeed(market, ['BTCUSDT'], '4h', tf, pacer, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
    const watch = new ModelWatch(registryModelSource(`${name}@production`, ['BTCUSDT'], pipeline)!, opened.signals, { version: 'v1', models: opened.models }, { allowUngated: false, now: () => 0 });
    try {
      runner = new LiveRunner(
        { runId: 'prom1', mode: 'paper', instruments: setup.instruments, timeframe: '4h', initialCash: setup.initialCash, leverage: setup.leverage, dir: runDir, startTs: START, maxBars: LIVE, warmupBars: setup.warmupBars, paper: { fees: setup.fees, slippage: setup.slippage }, config: setup.config },
        { feed, pacer, strategy: setup.strategy, signals: opened.signals, modelWatch: watch },
      );
      await runner.run();
    } finally {
      await watch.close();
      await market.close();
      await server.close();
    }
    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    const swaps = records.filter((r) => r.k === 'swap') as { t: number; from: string; to: string; ok: boolean; reason?: string }[];
    expect(swaps.map((s) => `${s.from}→${s.to} ${s.ok}`)).toEqual(['v1→v2 true', 'v2→v3 false', 'v2→v1 true']);
    expect(swaps[1]!.reason).toMatch(/load failed/);
    // Each swap takes effect at a bar boundary, at most one bar after the step that caused it (the alias is asked
    // after every bar; a rollback applies at the very next bar).
    expect(stepAt).toHaveLength(3);
    expect([stepAt[0]!, stepAt[0]! + tf]).toContain(swaps[0]!.t);
    expect(swaps[2]!.t).toBe(stepAt[2]);

    // Every live signal is exactly the prediction of the version in force at its bar.
    const x = await featureInputsFromStore(store, { venue: 'bybit', symbol: 'BTCUSDT', timeframe: '4h', start: START - setup.warmupBars * tf, end: START + LIVE * tf, fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
    store.close();
    const cached: Record<string, Float64Array> = {};
    for (const v of ['v1', 'v2']) {
      const m = await loadOnnxModel(onnxOf[v]!, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
      cached[v] = await predictColumn(pipeline, m, x);
      await m.close();
    }
    const bars = records.filter((r): r is Extract<typeof r, { k: 'bar' }> => r.k === 'bar' && r.warmup === undefined);
    expect(bars).toHaveLength(LIVE);
    let differing = 0;
    for (const b of bars) {
      const version = b.ts >= swaps[2]!.t ? 'v1' : b.ts >= swaps[0]!.t ? 'v2' : 'v1';
      const t = x.ts.indexOf(b.ts);
      expect(Object.is(b.s ?? NaN, cached[version]![t]), `${new Date(b.ts).toISOString()} (${version})`).toBe(true);
      if (cached['v1']![t] !== cached['v2']![t]) differing++;
    }
    expect(differing).toBeGreaterThan(LIVE / 2); // the two versions are different models
  }, 240_000);
});
