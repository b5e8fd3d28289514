/**
 * The 3-tier warm-up of a restarted live runner (paper, regime-kelly on a GBDT's signals through onnxruntime, real
 * BTCUSDT/ETHUSDT 4h bars from the local v5 venue, the runner state in the real Redis of the test harness). A run is
 * stopped after some bars and started again in each situation: a fresh saved state (tier 1), a saved state that lags
 * the run (tier 2: the bars since are fetched, their signals read from the journal), a stale state, Redis down, another
 * model version, a corrupted state, a state whose signals fail the validation (tier 3 each). Every one ends with the
 * decisions and fills of one uninterrupted run, and says which tier it chose and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { ExperimentConfig, ExperimentModel } from '../../src/backtest/run-experiment.js';
import { fitExperimentRegimes } from '../../src/backtest/run-experiment.js';
import { parseBacktestConfig } from '../../src/config/backtest-config.js';
import { DEFAULT_DEADLINES as DEFAULT_NETWORK_DEADLINES } from '../../src/config/network-deadlines.js';
import { timeframeMs } from '../../src/core/time.js';
import { loadBars, MarketStore } from '../../src/data/index.js';
import type { StateSnapshot, StateStore } from '../../src/engine/state-store.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline } from '../../src/features/index.js';
import { readJournal } from '../../src/live/journal.js';
import { LiveRunner, type LiveRunSummary } from '../../src/live/live-runner.js';
import { liveSetup, type LiveSetup } from '../../src/live/live-setup.js';
import { openLiveSignals } from '../../src/live/live-signals.js';
import { VenueSignalInputs } from '../../src/live/venue-signal-inputs.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { VirtualTime } from '../../src/live/live-clock.js';
import { loadOnnxModel } from '../../src/models/index.js';
import { StoreSignalInputs } from '../../src/signals/signal-input-source.js';
import { decodeSnapshot, encodeSnapshot, RedisStateStore } from '../../src/state/index.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { readSharedFunding } from '../support/bybit-test-data.js';
import { serverKlines } from '../support/live-harness.js';
import { modelInputsStore, regimeKellyModelExperiment, tinyModel } from '../support/live-model.js';
import { join } from 'node:path';
import { requireServiceEnv } from '../support/service-env.js';
import { tempDir } from '../support/shared-data.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const RAW = regimeKellyModelExperiment('live-tiers', SYMBOLS, '2024-01-01', '2024-02-01');
const tf = timeframeMs('4h');
const START = Date.UTC(2024, 0, 1);
/** Live bars of every run, and where the interrupted ones stop before their restart. */
const LIVE_BARS = 36;
const FIRST_LIFE = 20;

/** A state store that stops saving after `saves` saves (Redis unreachable for a while): the saved state lags the run. */
class LaggingStore implements StateStore {
  constructor(
    private readonly inner: StateStore,
    private saves: number,
  ) {}
  async saveAll(runner: string, snapshots: Readonly<Record<string, StateSnapshot>>): Promise<void> {
    if (this.saves-- <= 0) throw new Error('connection is closed (simulated outage)');
    return this.inner.saveAll(runner, snapshots);
  }
  load: StateStore['load'] = (runner, instrument, expect) => this.inner.load(runner, instrument, expect);
  instruments = (runner: string) => this.inner.instruments(runner);
  clear = (runner: string) => this.inner.clear(runner);
  async close(): Promise<void> {}
}

describe('live runner restarts through the 3-tier warm-up (real Redis)', () => {
  let store: MarketStore;
  let onnx: Uint8Array;
  let setup: LiveSetup;
  let server: BybitV5Server;
  let redis: Redis;
  let redisStore: RedisStateStore;
  let warmup = 0;
  /** The venue's and the runner's clock (a new one for each run from START; the venue reads the current one). */
  let time = new VirtualTime(START);
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const config = (() => {
    const parsed = parseBacktestConfig(RAW, 'live-tiers.json');
    if (!parsed.success) throw parsed.error;
    return parsed.data as unknown as ExperimentConfig;
  })();
  const loadModel = (version: string) => async (): Promise<ExperimentModel> => {
    const model = await loadOnnxModel(onnx, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
    return { model, card: { name: 'test-gbdt', dataRange: { from: '2022-01-01', to: '2023-01-01' }, gatesPassed: false, onnxSha256: 'c'.repeat(64) }, version, close: () => model.close() };
  };

  beforeAll(async () => {
    // The model's inputs in a store file, and a small GBDT trained on BTC's 2022 bars (it only needs to be a real model).
    const db = join(tempDir('tm-tiers-store-'), 'market.duckdb');
    await modelInputsStore(db, SYMBOLS);
    onnx = (await tinyModel(db, 'test-gbdt')).onnx;
    store = await MarketStore.open(db, { readOnly: true });
    const regimes = await fitExperimentRegimes(store, config, liveSetup({ ...config, regime: undefined } as ExperimentConfig, STRATEGIES).instruments);
    setup = liveSetup(config, STRATEGIES, { regimes });
    warmup = setup.warmupBars;
    const frame = await loadBars(store, { venue: 'bybit', symbols: SYMBOLS, timeframe: '4h', start: START - warmup * tf, end: START + (LIVE_BARS + 2) * tf, missing: 'error' });
    const funding = Object.fromEntries(SYMBOLS.map((s) => [s, readSharedFunding(`binance-futures/${s}-funding.csv.gz`)]));
    server = await BybitV5Server.start({ klines: serverKlines(frame), funding, now: () => time.current() });
    const url = requireServiceEnv('REDIS_URL');
    redis = new Redis(url);
    redisStore = (await RedisStateStore.openResilient(url, DEFAULT_NETWORK_DEADLINES)).store;
  }, 240_000);
  afterAll(async () => {
    await redisStore?.close();
    redis?.disconnect();
    await server?.close();
    store?.close();
  });

  /** One life of a run in `dir`: from `START` (a fresh start) or where its saved run state says, for `bars` live bars. */
  async function life(dir: string, bars: number, options: { stateStore?: StateStore; key?: string; version?: string; maxAgeMs?: number; restartProtectionMs?: number } = {}): Promise<{ summary: LiveRunSummary; log: string[] }> {
    const market = new BybitMarketDataClient({ apiUrl: server.url, rateLimitMs: 1 });
    const feed = new LiveBarFeed(market, SYMBOLS, '4h', tf, time, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
    const source = new VenueSignalInputs(market, new StoreSignalInputs(store, { venue: 'bybit', fundingVenue: 'binance-futures' }));
    const opened = await openLiveSignals({ ...setup, modelColumn: setup.modelColumn! }, { loadModel: loadModel(options.version ?? 'v1'), source, from: START, now: () => 0 });
    const log: string[] = [];
    try {
      const runner = new LiveRunner(
        {
          runId: 'tier', mode: 'paper', instruments: setup.instruments, timeframe: '4h', initialCash: setup.initialCash, leverage: setup.leverage, dir, startTs: START, maxBars: bars, warmupBars: warmup,
          paper: { fees: setup.fees, slippage: setup.slippage }, config: setup.config,
          ...(options.stateStore !== undefined ? { stateStore: { store: options.stateStore, key: options.key ?? 'tiers', ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}) } } : {}),
          ...(options.restartProtectionMs !== undefined ? { restartProtectionMs: options.restartProtectionMs } : {}),
        },
        { feed, pacer: time, strategy: setup.strategy, signals: opened.signals, log: (line) => log.push(line) },
      );
      return { summary: await runner.run(), log };
    } finally {
      await opened.close();
      await market.close();
    }
  }

  /** The decisions (submits, once each) and fills of a run's journal, and its live bars' signals. */
  function outcome(dir: string): { submits: string[]; fills: string[]; signals: string[] } {
    const { records } = readJournal(`${dir}/journal.jsonl`);
    const seen = new Set<string>();
    const submits: string[] = [];
    for (const r of records) if (r.k === 'submit' && !seen.has(r.id)) (seen.add(r.id), submits.push(JSON.stringify({ ...r, t: 0 })));
    const fills = records.filter((r) => r.k === 'fill').map((r) => JSON.stringify(r));
    const signals = records.filter((r): r is Extract<typeof r, { k: 'bar' }> => r.k === 'bar' && r.warmup === undefined).map((r) => `${r.i}@${r.ts}=${r.s}`);
    return { submits, fills, signals };
  }

  let reference: ReturnType<typeof outcome>;
  it('an uninterrupted run (the reference) saves its state after every bar', async () => {
    time = new VirtualTime(START);
    const dir = tempDir('tm-tiers-ref-');
    await redisStore.clear('tiers-ref');
    const { summary } = await life(dir, LIVE_BARS, { stateStore: redisStore, key: 'tiers-ref' });
    expect(summary.warmup).toMatchObject({ tier: 3, reason: expect.stringMatching(/^no saved state of BTCUSDT-LINEAR\.BYBIT: full warm-up/) });
    reference = outcome(dir);
    expect(reference.submits.length).toBeGreaterThan(3);
    expect(reference.signals).toHaveLength(2 * LIVE_BARS);
    // One hash, a field per instrument, each a checksummed snapshot of the last bar.
    expect((await redis.hkeys('tm:state:tiers-ref')).sort()).toEqual(['BTCUSDT-LINEAR.BYBIT', 'ETHUSDT-LINEAR.BYBIT']);
    const saved = decodeSnapshot((await redis.hget('tm:state:tiers-ref', 'ETHUSDT-LINEAR.BYBIT'))!, { schemaVersion: 1, model: { name: 'test-gbdt', version: 'v1', checksum: 'c'.repeat(64) } }, 'test');
    expect(saved.success && saved.data.barTs).toBe(START + LIVE_BARS * tf);
  }, 240_000);

  /**
   * Runs FIRST_LIFE bars, lets `between` alter the saved state, restarts for the rest with `restart` options and
   * checks the whole run equals the reference. Returns the restart's warm-up report and log.
   */
  async function interrupted(key: string, between: (dir: string) => Promise<void>, restart: Parameters<typeof life>[2], first: Parameters<typeof life>[2] = {}): Promise<{ summary: LiveRunSummary; log: string[] }> {
    time = new VirtualTime(START);
    const dir = tempDir(`tm-tiers-${key}-`);
    await redisStore.clear(key);
    await life(dir, FIRST_LIFE, { stateStore: redisStore, key, ...first });
    await between(dir);
    const second = await life(dir, LIVE_BARS - FIRST_LIFE, { key, ...restart });
    expect(second.summary.restarted).toBe(true);
    const got = outcome(dir);
    expect(got.signals).toEqual(reference.signals);
    expect(got.submits).toEqual(reference.submits);
    expect(got.fills).toEqual(reference.fills);
    return second;
  }

  it('tier 1: a fresh, validated saved state is restored without asking the venue for the warm-up bars', async () => {
    const { summary, log } = await interrupted('tiers-t1', async () => undefined, { stateStore: redisStore });
    expect(summary.warmup).toMatchObject({ tier: 1, restoredBars: warmup, fetchedBars: 0 });
    expect(summary.warmup!.reason).toMatch(/restored and validated/);
    // The strategy rebuilt by the replay shows the saved tier, regime probabilities, rolling IC and sizing inputs.
    expect(summary.warmup!.strategyCheck).toBe('matched');
    expect(log.some((l) => /^warm-up tier 1 \(\d+ bar sets in [\d.]+ ms\)/.test(l))).toBe(true);
  }, 240_000);

  it('tier 2: a saved state 3 bars behind the run is restored and the gap filled (signals from the journal)', async () => {
    // The first life's state store fails after FIRST_LIFE - 3 live bars (+1: the save at the end of the warm-up). Three
    // 4h bars make the state 12 h old at the restart: the age limit is raised to a day for this run.
    const { summary } = await interrupted('tiers-t2', async () => undefined, { stateStore: redisStore, maxAgeMs: 24 * 3_600_000 }, { stateStore: new LaggingStore(redisStore, FIRST_LIFE - 3 + 1) });
    expect(summary.warmup, summary.warmup?.reason).toMatchObject({ tier: 2, restoredBars: warmup, fetchedBars: 3, journalSignals: 2 * 3, strategyCheck: 'matched' });
  }, 240_000);

  it('tier 3: a stale state (older than the limit) is not restored', async () => {
    // The run is down for 5 hours (its restart then catches up on the bars it missed, as live bars).
    const { summary } = await interrupted('tiers-stale', async () => void (await time.waitUntil(time.current() + 5 * 3_600_000)), { stateStore: redisStore });
    expect(summary.warmup).toMatchObject({ tier: 3, fetchedBars: warmup });
    expect(summary.warmup!.reason).toMatch(/^saved state is 5\.\d\d h old \(limit 4\.00 h\): full warm-up from the venue$/);
  }, 240_000);

  it('tier 3 with an alert: Redis down', async () => {
    const down = await RedisStateStore.openResilient('redis://127.0.0.1:1', DEFAULT_NETWORK_DEADLINES);
    expect(down.error).toMatch(/cannot connect to redis:\/\/127\.0\.0\.1:1/);
    try {
      const { summary, log } = await interrupted('tiers-down', async () => undefined, { stateStore: down.store });
      expect(summary.warmup).toMatchObject({ tier: 3, reason: expect.stringMatching(/^saved state of BTCUSDT-LINEAR\.BYBIT: redis state store: reading .* failed/) });
      expect(log.some((l) => l.startsWith('ALERT warm-up tier 3'))).toBe(true);
      // Saving fails too: an alert per bar, never a stop.
      expect(log.some((l) => l.startsWith('ALERT state store: redis state store: saving 2 state(s) of tiers-down failed'))).toBe(true);
    } finally {
      await down.store.close();
    }
  }, 240_000);

  it('tier 3: a state of another model version is refused', async () => {
    const { summary, log } = await interrupted('tiers-model', async () => undefined, { stateStore: redisStore, version: 'v2' });
    expect(summary.warmup).toMatchObject({ tier: 3, reason: expect.stringMatching(/written for model test-gbdt v1 .*this runner serves test-gbdt v2/) });
    expect(log.some((l) => l.startsWith('ALERT'))).toBe(false); // expected after a promotion: no alert
  }, 240_000);

  it('tier 3 with an alert: a corrupted state (bytes changed, checksum no longer matches)', async () => {
    const { summary, log } = await interrupted(
      'tiers-corrupt',
      async () => {
        const text = (await redis.hget('tm:state:tiers-corrupt', 'BTCUSDT-LINEAR.BYBIT'))!;
        await redis.hset('tm:state:tiers-corrupt', 'BTCUSDT-LINEAR.BYBIT', text.replace('"sets":', '"sets":1'));
      },
      { stateStore: redisStore },
    );
    expect(summary.warmup).toMatchObject({ tier: 3, reason: expect.stringMatching(/does not match its checksum|not JSON/) });
    expect(log.some((l) => l.startsWith('ALERT warm-up tier 3'))).toBe(true);
  }, 240_000);

  it('tier 3 with an alert: a state whose saved signals the model does not reproduce fails the validation (and is not half-used)', async () => {
    const { summary } = await interrupted(
      'tiers-invalid',
      async () => {
        // A well-formed, correctly checksummed state whose last signal of ETH was changed: only a recomputation finds it.
        const field = 'ETHUSDT-LINEAR.BYBIT';
        const decoded = decodeSnapshot((await redis.hget('tm:state:tiers-invalid', field))!, { schemaVersion: 1, model: { name: 'test-gbdt', version: 'v1', checksum: 'c'.repeat(64) } }, 'test');
        if (!decoded.success) throw decoded.error;
        const p = decoded.data.payload as { sets: number; bars: string };
        const bytes = Buffer.from(p.bars, 'base64');
        const cols = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        cols[8 * p.sets - 1] = cols[8 * p.sets - 1]! + 0.01; // the signal column is the last; its last value
        await redis.hset('tm:state:tiers-invalid', field, encodeSnapshot({ ...decoded.data, payload: { ...decoded.data.payload, bars: Buffer.from(cols.buffer).toString('base64') } }));
      },
      { stateStore: redisStore },
    );
    expect(summary.warmup).toMatchObject({ tier: 3, fetchedBars: warmup, reason: expect.stringMatching(/^saved state failed its validation: the model's signals of its last bars differ from the saved ones by up to 0\.01/) });
  }, 240_000);

  it('warm-up protection after a restart: no new positions for the configured time, then the decisions go on', async () => {
    time = new VirtualTime(START);
    const dir = tempDir('tm-tiers-protect-');
    await redisStore.clear('tiers-protect');
    await life(dir, FIRST_LIFE, { stateStore: redisStore, key: 'tiers-protect' });
    // The restart's clock is the venue time of its first bar; protection for 6 bars' worth of it.
    const { summary, log } = await life(dir, LIVE_BARS - FIRST_LIFE, { stateStore: redisStore, key: 'tiers-protect', restartProtectionMs: 6 * tf });
    expect(summary.warmup?.tier).toBe(1);
    expect(log.some((l) => l.startsWith('no new positions: warm-up protection after a restart until'))).toBe(true);
    expect(log).toContain('new positions allowed again');
    const { records } = readJournal(`${dir}/journal.jsonl`);
    const blocks = records.filter((r) => r.k === 'event' && r.e === 'entry_block');
    expect(blocks.map((b) => (b as { id: string }).id)).toEqual(['lifted', 'set', 'lifted']);
    const got = outcome(dir);
    // Before the restart and after the protection the run decides as the reference; during it, opening orders are denied.
    expect(got.signals).toEqual(reference.signals);
    const denied = records.filter((r) => r.k === 'event' && r.e === 'denied');
    for (const d of denied) expect((d as { reason: string }).reason).toMatch(/^risk: warm-up protection after a restart until /);
    // Orders are sent again once it is lifted.
    const liftedAt = records.indexOf(blocks[2]!);
    expect(records.slice(liftedAt).some((r) => r.k === 'submit')).toBe(true);
    expect(got.submits.length).toBeGreaterThan(0);
  }, 240_000);
});
