import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ServerBars, ServerFunding } from './bybit-v5-server.js';
import { sharedDataDir } from './shared-data.js';

/** Columnar bars read from a shared-data candle file (`ts,open,high,low,close,volume`, ISO `ts`), oldest first. */
export interface TestBars extends ServerBars {
  readonly length: number;
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** Funding settlements read from a shared-data funding file (`ts,symbol,rate`), oldest first. */
export interface TestFunding extends ServerFunding {
  readonly length: number;
  readonly ts: Float64Array;
  readonly rate: Float64Array;
}

function readRows(relative: string, header: string): string[][] {
  const file = join(sharedDataDir(), relative);
  const lines = gunzipSync(readFileSync(file)).toString('utf8').trimEnd().split('\n');
  if (lines[0]!.trim() !== header) throw new Error(`${file}: header must be ${header}, was ${lines[0]}`);
  return lines.slice(1).map((l) => l.trim().split(','));
}

function parseTs(text: string): number {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new Error(`not a timestamp: ${text}`);
  return t;
}

/** Reads e.g. `bybit/BTCUSDT-4h.csv.gz` from `${TM_SHARED_DATA:-../shared/data}`. */
export function readSharedBars(relative: string): TestBars {
  const rows = readRows(relative, 'ts,open,high,low,close,volume');
  const n = rows.length;
  const cols = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  rows.forEach((r, i) => {
    cols.ts[i] = parseTs(r[0]!);
    cols.open[i] = Number(r[1]);
    cols.high[i] = Number(r[2]);
    cols.low[i] = Number(r[3]);
    cols.close[i] = Number(r[4]);
    cols.volume[i] = Number(r[5]);
  });
  return cols;
}

/** Reads e.g. `binance-futures/BTCUSDT-funding.csv.gz`. */
export function readSharedFunding(relative: string): TestFunding {
  const rows = readRows(relative, 'ts,symbol,rate');
  const n = rows.length;
  const out = { length: n, ts: new Float64Array(n), rate: new Float64Array(n) };
  rows.forEach((r, i) => {
    out.ts[i] = parseTs(r[0]!);
    out.rate[i] = Number(r[2]);
  });
  return out;
}

/** Rows of `bars` with `from <= ts < to`, as plain row arrays `[ts, open, high, low, close, volume]` for exact comparisons. */
export function barRows(bars: TestBars, from: number, to: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < bars.length; i++) {
    const t = bars.ts[i]!;
    if (t >= from && t < to) out.push([t, bars.open[i]!, bars.high[i]!, bars.low[i]!, bars.close[i]!, bars.volume[i]!]);
  }
  return out;
}

/** Rows of `funding` with `from <= ts < to` as `[ts, rate]`. */
export function fundingRows(funding: TestFunding, from: number, to: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < funding.length; i++) {
    const t = funding.ts[i]!;
    if (t >= from && t < to) out.push([t, funding.rate[i]!]);
  }
  return out;
}

/**
 * The default data of the test server: Bybit BTCUSDT and ETHUSDT 4h candles, Binance spot SOLUSDT 4h candles standing in
 * for Bybit SOLUSDT (no Bybit SOL history is in the shared data), and Binance USDT-M funding standing in for Bybit funding.
 */
export function loadBybitServerData(): { bars: Record<string, TestBars>; funding: Record<string, TestFunding> } {
  return {
    bars: {
      BTCUSDT: readSharedBars('bybit/BTCUSDT-4h.csv.gz'),
      ETHUSDT: readSharedBars('bybit/ETHUSDT-4h.csv.gz'),
      SOLUSDT: readSharedBars('binance-spot/SOLUSDT-4h.csv.gz'),
    },
    funding: {
      BTCUSDT: readSharedFunding('binance-futures/BTCUSDT-funding.csv.gz'),
      ETHUSDT: readSharedFunding('binance-futures/ETHUSDT-funding.csv.gz'),
      SOLUSDT: readSharedFunding('binance-futures/SOLUSDT-funding.csv.gz'),
    },
  };
}

/** Reads the shared Deribit BTC DVOL daily closes (`deribit/BTC-DVOL-1d.csv.gz`). */
export function readSharedDvol(): { ts: Float64Array; value: Float64Array } {
  const rows = readRows('deribit/BTC-DVOL-1d.csv.gz', 'ts,dvol_close');
  return { ts: Float64Array.from(rows, (r) => parseTs(r[0]!)), value: Float64Array.from(rows, (r) => Number(r[1])) };
}
