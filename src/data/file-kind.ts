import { basename, dirname } from 'node:path';
import { timeframeMs } from '../core/time.js';
import { DataError } from './data-error.js';

/** What a market-data file holds, derived from its name (see ../shared/data/README.md for the layout). */
export type FileKind =
  | { readonly kind: 'bars'; readonly venue: string; readonly symbol: string; readonly timeframe: string }
  | { readonly kind: 'funding'; readonly venue: string; readonly symbol: string }
  | { readonly kind: 'trades'; readonly venue: string; readonly symbol: string }
  | { readonly kind: 'series'; readonly source: string; readonly series: string; readonly timeframe: string };

/** Data file extensions, in any letter case (`.csv`, `.CSV.GZ`, `.Parquet`). */
export const DATA_FILE_RE = /\.(csv|csv\.gz|parquet)$/i;

/**
 * Returns what `path` holds from its file name and folder:
 * - `<venue>/<SYMBOL>-<timeframe>[-<suffix>].<ext>`: OHLCV bars, e.g. `bybit/BTCUSDT-4h.csv.gz`, `binance-futures/BTCUSDT-1m-2023-07_08.csv.gz`;
 * - `<venue>/<SYMBOL>-funding.<ext>`: funding rates;
 * - `<venue>/<SYMBOL>-trades[-<suffix>].<ext>`: trade ticks;
 * - `<source>/<NAME>-<timeframe>.<ext>` where NAME has a dash, e.g. `deribit/BTC-DVOL-1d.csv.gz`: a daily/periodic external series.
 * The venue (or source) is the parent folder's name unless `venue` is given.
 * @throws DataError `unknown_file_kind` when the name fits none of these.
 */
export function detectFileKind(path: string, venue?: string): FileKind {
  const file = basename(path);
  const stem = file.replace(DATA_FILE_RE, '');
  const folder = venue ?? basename(dirname(path));
  const fail = (why: string): never => {
    throw new DataError('unknown_file_kind', `${path}: cannot tell what the file holds (${why}); expected <SYMBOL>-<timeframe>.csv.gz, <SYMBOL>-funding.csv.gz, <SYMBOL>-trades.csv.gz or <ASSET>-<SERIES>-<timeframe>.csv.gz`, { file: path });
  };
  if (stem === file) fail('extension is not .csv, .csv.gz or .parquet');
  const parts = stem.split('-');
  const symbol = parts[0]!;
  if (!/^[A-Z0-9]{2,30}$/.test(symbol)) fail(`symbol ${JSON.stringify(symbol)} is not upper-case letters and digits`);
  if (parts[1] === 'funding' && parts.length === 2) return { kind: 'funding', venue: folder, symbol };
  if (parts[1] === 'trades') return { kind: 'trades', venue: folder, symbol };
  if (parts.length >= 2 && isTimeframe(parts[1]!)) return { kind: 'bars', venue: folder, symbol, timeframe: parts[1]! };
  if (parts.length === 3 && /^[A-Z0-9]+$/.test(parts[1]!) && isTimeframe(parts[2]!)) {
    return { kind: 'series', source: folder, series: `${symbol}-${parts[1]}`, timeframe: parts[2]! };
  }
  return fail('no timeframe, funding or trades part in the name');
}

function isTimeframe(s: string): boolean {
  try {
    timeframeMs(s);
    return true;
  } catch {
    return false;
  }
}
