/**
 * The live signal stage's inputs: the SignalInputSource contract run against the store and against the venue (the
 * local v5 server serving the same recorded funding and bars through ccxt), and the live stage fed one bar set at a
 * time from either source computes, bar for bar and with Object.is, the feature rows of the batch pipeline over the
 * stored inputs (the backtest's) — including the stale DVOL span after the series is cut.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { DAY_MS, timeframeMs } from '../../src/core/time.js';
import { importPath, loadBars, MarketStore } from '../../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../../src/features/index.js';
import { LiveSignals } from '../../src/live/live-signals.js';
import { VenueSignalInputs } from '../../src/live/venue-signal-inputs.js';
import type { SignalModel } from '../../src/signals/index.js';
import { StoreSignalInputs, type SignalInputSource } from '../../src/signals/signal-input-source.js';
import { runSignalInputSourceContract, type SignalInputsTruth } from '../contract/signal-input-source.contract.js';
import { readSharedBars, readSharedDvol, readSharedFunding } from '../support/bybit-test-data.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { sharedDataDir } from '../support/shared-data.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const DVOL_CUT = Date.UTC(2024, 2, 1); // DVOL rows from here on are deleted in the staleness store

async function openStore(cutDvol = false): Promise<MarketStore> {
  const store = await MarketStore.open(':memory:');
  const root = sharedDataDir();
  for (const s of SYMBOLS) {
    await importPath(store, `${root}/bybit/${s}-4h.csv.gz`, { venue: 'bybit' });
    await importPath(store, `${root}/binance-futures/${s}-funding.csv.gz`, { venue: 'binance-futures' });
  }
  await importPath(store, `${root}/deribit`);
  if (cutDvol) await store.query(`DELETE FROM external_series WHERE epoch_ms(ts) >= ?`, [DVOL_CUT]);
  return store;
}

function truth(): SignalInputsTruth {
  return {
    funding: Object.fromEntries(SYMBOLS.map((s) => [s, readSharedFunding(`binance-futures/${s}-funding.csv.gz`)])),
    dvol: readSharedDvol(),
    bars: Object.fromEntries(SYMBOLS.map((s) => [s, readSharedBars(`bybit/${s}-4h.csv.gz`)])),
  };
}

/** The local venue serving the recorded bars and Binance's funding under the same symbols; DVOL from `store`. */
async function venueSource(store: MarketStore) {
  const t = truth();
  const klines = Object.fromEntries(SYMBOLS.map((s) => [s, { '240': readSharedBars(`bybit/${s}-4h.csv.gz`) }]));
  const server = await BybitV5Server.start({ klines, funding: t.funding, now: () => Date.UTC(2025, 8, 1) });
  const market = new BybitMarketDataClient({ apiUrl: server.url, rateLimitMs: 1 });
  return {
    source: new VenueSignalInputs(market, new StoreSignalInputs(store, { venue: 'bybit', fundingVenue: 'binance-futures' })),
    async close() {
      await market.close();
      await server.close();
    },
  };
}

let shared: MarketStore;
beforeAll(async () => {
  shared = await openStore();
}, 120_000);
afterAll(() => shared?.close());

runSignalInputSourceContract('store', async () => ({ source: new StoreSignalInputs(shared, { venue: 'bybit', fundingVenue: 'binance-futures' }), truth: truth(), close: async () => undefined }));
runSignalInputSourceContract('venue (local Bybit v5 server through ccxt)', async () => {
  const v = await venueSource(shared);
  return { source: v.source, truth: truth(), close: () => v.close() };
});

/** A model that records every feature row it is given (and predicts 0). */
function recordingModel(pipeline: FeaturePipeline): SignalModel & { rows: Float64Array[] } {
  const rows: Float64Array[] = [];
  return { featureNames: pipeline.names, rows, predictOne: async (row) => (rows.push(Float64Array.from(row)), 0), predict: async () => new Float32Array(0) };
}

describe('live signal stage == batch pipeline over the stored inputs', () => {
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const tf = timeframeMs('4h');
  const start = Date.UTC(2024, 0, 1) - 300 * tf, end = Date.UTC(2024, 3, 1);

  async function compare(store: MarketStore, source: SignalInputSource, symbols: readonly string[] = SYMBOLS) {
    const frame = await loadBars(store, { venue: 'bybit', symbols, timeframe: '4h', start, end, missing: 'error' });
    const models = symbols.map(() => recordingModel(pipeline));
    const live = new LiveSignals({ column: 'signal', symbols, timeframe: '4h', funding: true, dvol: true, reference: 'BTCUSDT' }, pipeline, models, source);
    for (let t = 0; t < frame.ts.length; t++) {
      await live.onBarSet({ ts: frame.ts[t]!, bars: symbols.map((_, i) => ({ ts: frame.ts[t]!, open: frame.open[i]![t]!, high: frame.high[i]![t]!, low: frame.low[i]![t]!, close: frame.close[i]![t]!, volume: frame.volume[i]![t]! })) });
    }
    let finite = 0;
    for (const [i, symbol] of symbols.entries()) {
      const x = await featureInputsFromStore(store, { venue: 'bybit', symbol, timeframe: '4h', start, end, fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
      const batch = pipeline.computeBatch(x);
      expect(models[i]!.rows).toHaveLength(batch.rows);
      for (let t = 0; t < batch.rows; t++) {
        const row = models[i]!.rows[t]!;
        for (let c = 0; c < batch.columns; c++) {
          const want = batch.matrix[t * batch.columns + c]!;
          if (!Object.is(row[c], want)) expect.fail(`${symbol} bar ${new Date(x.ts[t]!).toISOString()} feature ${pipeline.names[c]}: live ${row[c]}, batch ${want}`);
          if (Number.isFinite(want)) finite++;
        }
      }
    }
    expect(finite).toBeGreaterThan(0.9 * symbols.length * frame.ts.length * pipeline.names.length);
    return live;
  }

  it('from the store', async () => {
    await compare(shared, new StoreSignalInputs(shared, { venue: 'bybit', fundingVenue: 'binance-futures' }));
  }, 120_000);

  it('from the venue (funding history and klines through ccxt), DVOL from the store', async () => {
    const v = await venueSource(shared);
    try {
      await compare(shared, v.source);
    } finally {
      await v.close();
    }
  }, 120_000);

  it('a reference asset with missing bars (asked from the source): bridged one bar, NaN beyond, as the batch path', async () => {
    const gaps = await openStore();
    try {
      const at = (k: number) => Date.UTC(2024, 1, 1) + k * tf;
      // One missing BTC bar (bridged), then two in a row (the second is NaN: older than one bar).
      await gaps.query(`DELETE FROM bar_data WHERE series_id = (SELECT id FROM bar_series WHERE symbol = 'BTCUSDT') AND epoch_ms(ts) IN (?, ?, ?)`, [at(0), at(10), at(11)]);
      await compare(gaps, new StoreSignalInputs(gaps, { venue: 'bybit', fundingVenue: 'binance-futures' }), ['ETHUSDT']);
    } finally {
      gaps.close();
    }
  }, 120_000);

  it('a DVOL series that stops: the same NaN features as the batch path, and a stale_input event at the bar it went stale', async () => {
    const cut = await openStore(true);
    try {
      const live = await compare(cut, new StoreSignalInputs(cut, { venue: 'bybit', fundingVenue: 'binance-futures' }));
      const dvolEvents = live.staleEvents.filter((e) => e.input === 'dvol');
      expect(dvolEvents.length).toBe(2); // one per instrument
      for (const e of dvolEvents) {
        expect(e.lastValueTs).toBe(DVOL_CUT - DAY_MS);
        expect(e.barTs).toBeGreaterThan(DVOL_CUT);
        expect(e.barTs).toBeLessThanOrEqual(DVOL_CUT + 3 * DAY_MS);
      }
    } finally {
      cut.close();
    }
  }, 120_000);
});
