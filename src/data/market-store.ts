import type { OhlcvColumns } from '../core/bar.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  DOUBLE,
  DuckDBAppender,
  DuckDBDataChunk,
  DuckDBDoubleVector,
  DuckDBInstance,
  DuckDBIntegerVector,
  DuckDBTimestampValue,
  DuckDBTimestampVector,
  INTEGER,
  TIMESTAMP,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { DataError } from './data-error.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';

/** Default store file, relative to the working directory; overridden by `--db` or `TM_DB`. */
export const DEFAULT_STORE_PATH = 'data/market.duckdb';

/** Resolves the store path: explicit argument, else env `TM_DB`, else {@link DEFAULT_STORE_PATH}. */
export function resolveStorePath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env['TM_DB'] ?? DEFAULT_STORE_PATH);
}

/** `upsert` replaces values of existing keys; `insert-missing` only adds keys not stored yet. */
export type MergeMode = 'upsert' | 'insert-missing';

/** Rows an upsert added and rows whose values it replaced; both 0 when the data was already stored. */
export interface UpsertCount {
  inserted: number;
  updated: number;
}

/** Bars to write: one OHLCV column set (the core type). */
export type BarColumnsInput = OhlcvColumns;

/**
 * The DuckDB market-data store: bars, funding rates, trade ticks, external daily series and prediction history.
 * One instance owns one connection; create it in a composition root (CLI, notebook) and pass it down.
 */
export class MarketStore {
  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    /** Opened READ_ONLY: writes fail, other read-only processes may hold the store at the same time. */
    readonly readOnly = false,
  ) {}

  /**
   * Opens (creating if needed) the store at `path` (`:memory:` for a throwaway store) and applies the schema.
   * With `readOnly` the file must exist and is opened in DuckDB's READ_ONLY mode: any number of read-only processes
   * can hold it at once (they share the lock), but none while a writer holds it (and no writer while they do).
   * @throws DataError `locked` when another process holds a conflicting lock (the message names its PID and says what
   * to do), `not_found` for a read-only open of a missing file, `store` for other failures.
   */
  static async open(path: string, options: { readOnly?: boolean } = {}): Promise<MarketStore> {
    const file = path === ':memory:' ? path : resolve(path);
    const readOnly = options.readOnly === true && file !== ':memory:';
    if (readOnly && !existsSync(file)) {
      throw new DataError('not_found', `store ${file} does not exist: import data first (tm data import <path> --db ${file})`, { path: file });
    }
    if (file !== ':memory:' && !readOnly) mkdirSync(dirname(file), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file, readOnly ? { access_mode: 'READ_ONLY' } : {});
    } catch (e) {
      throw openError(file, readOnly, e);
    }
    const connection = await instance.connect();
    try {
      await checkSchemaVersion(connection, file);
      if (!readOnly) await connection.run(SCHEMA_SQL);
    } catch (e) {
      connection.closeSync();
      instance.closeSync();
      throw e;
    }
    return new MarketStore(file, instance, connection, readOnly);
  }

  /** Closes the connection and the database (flushes the WAL into the file). */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /** Runs `fn` inside one transaction; rolls back and rethrows if it throws. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.connection.run('COMMIT');
      return out;
    } catch (e) {
      await this.connection.run('ROLLBACK');
      throw e;
    }
  }

  /** Runs a query and returns its rows as plain JS objects (BIGINT → number where safe, TIMESTAMP → Date). */
  async query(sql: string, params?: DuckDBValue[]): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  /**
   * Upserts bars of one series; values for existing timestamps are replaced, unless `mode` is `insert-missing`
   * (then existing bars are kept as they are).
   */
  async upsertBars(venue: string, symbol: string, timeframe: string, bars: BarColumnsInput, length = bars.ts.length, mode: MergeMode = 'upsert'): Promise<UpsertCount> {
    const { id: seriesId, created } = await this.barSeries(venue, symbol, timeframe);
    const columns = [bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume];
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < length; i++) {
      const t = bars.ts[i]!;
      if (t < first) first = t;
      if (t > last) last = t;
    }
    if (length > 0 && (created || !(await this.overlaps('bar_data', { series_id: seriesId }, first, last)))) {
      // A new stretch of the series: append straight into the table (the common import case).
      await this.appendBarData(seriesId, columns, length);
      return { inserted: length, updated: 0 };
    }
    await this.stage(columns, ['ts', 'open', 'high', 'low', 'close', 'volume'], length);
    return this.merge('bar_data', { series_id: seriesId }, [], ['open', 'high', 'low', 'close', 'volume'], [], mode);
  }

  /**
   * Opens a bulk appender for bars of a series that has NO rows yet (see {@link barSeries}); rows go straight into
   * `bar_data` inside the current transaction. Callers append sorted, validated rows and close it.
   */
  async openBarAppender(seriesId: number): Promise<BarAppender> {
    const appender = await this.connection.createAppender('bar_data');
    const chunk = DuckDBDataChunk.create([INTEGER, TIMESTAMP, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE], CHUNK_SIZE);
    let appended = 0;
    return {
      append: (columns, from, to) => {
        appendBarRows(appender, chunk, seriesId, columns, from, to);
        appended += to - from;
      },
      close: () => {
        appender.closeSync();
        return appended;
      },
    };
  }

  /** Number of stored bars of a series. */
  async barCount(seriesId: number): Promise<number> {
    const rows = await this.query(`SELECT count(*) AS n FROM bar_data WHERE series_id = ?`, [seriesId]);
    return Number(rows[0]!['n']);
  }

  /** Returns the id of a bar series, creating it (`created`) when new. */
  async barSeries(venue: string, symbol: string, timeframe: string): Promise<{ id: number; created: boolean }> {
    const found = await this.query(`SELECT id FROM bar_series WHERE venue = ? AND symbol = ? AND timeframe = ?`, [venue, symbol, timeframe]);
    if (found.length > 0) return { id: Number(found[0]!['id']), created: false };
    const made = await this.query(`INSERT INTO bar_series (venue, symbol, timeframe) VALUES (?, ?, ?) RETURNING id`, [venue, symbol, timeframe]);
    return { id: Number(made[0]!['id']), created: true };
  }

  /** Upserts funding settlements (`rate` = fraction paid per settlement). */
  async upsertFunding(venue: string, symbol: string, ts: Float64Array, rate: Float64Array, length = ts.length): Promise<UpsertCount> {
    await this.stage([ts, rate], ['ts', 'rate'], length);
    return this.merge('funding_rates', { venue, symbol }, [], ['rate']);
  }

  /** Upserts points of an external series (e.g. Deribit DVOL, one value per day). */
  async upsertSeries(source: string, series: string, timeframe: string, ts: Float64Array, value: Float64Array, length = ts.length): Promise<UpsertCount> {
    await this.stage([ts, value], ['ts', 'value'], length);
    return this.merge('external_series', { source, series, timeframe }, [], ['value']);
  }

  /**
   * Upserts trade ticks. `side` is +1 for buy and -1 for sell. Ticks sharing a timestamp are told apart by
   * their order in the input (`seq` 0, 1, ...), so re-importing the same file is idempotent.
   */
  async upsertTrades(venue: string, symbol: string, ts: Float64Array, price: Float64Array, qty: Float64Array, side: Float64Array, length = ts.length): Promise<UpsertCount> {
    const seq = new Float64Array(length);
    for (let i = 1; i < length; i++) seq[i] = ts[i] === ts[i - 1] ? seq[i - 1]! + 1 : 0;
    await this.stage([ts, seq, price, qty, side], ['ts', 'seq', 'price', 'qty', 'side'], length);
    return this.merge('trade_ticks', { venue, symbol }, [['seq', 's.seq::INTEGER']], [['price'], ['qty'], ['side', "CASE WHEN s.side > 0 THEN 'buy' ELSE 'sell' END"]]);
  }

  /** Upserts out-of-sample predictions of one model version for one series. */
  async upsertPredictions(
    key: { model: string; modelVersion: string; venue: string; symbol: string; timeframe: string; featureSpecHash?: string },
    ts: Float64Array,
    prediction: Float64Array,
    length = ts.length,
  ): Promise<UpsertCount> {
    await this.stage([ts, prediction], ['ts', 'prediction'], length);
    const { model, modelVersion: model_version, venue, symbol, timeframe } = key;
    return this.merge('predictions', { model, model_version, venue, symbol, timeframe }, [], [['prediction'], ['feature_spec_hash', '?::VARCHAR']], [key.featureSpecHash ?? null]);
  }

  /** Returns the open time (epoch ms) of the last stored bar of a series, or null when there is none. */
  async lastBarTs(venue: string, symbol: string, timeframe: string): Promise<number | null> {
    const rows = await this.query(`SELECT epoch_ms(max(ts)) AS t FROM bars WHERE venue = ? AND symbol = ? AND timeframe = ?`, [venue, symbol, timeframe]);
    return toNumberOrNull(rows[0]?.['t']);
  }

  /** Returns the last stored funding settlement time (epoch ms), or null. */
  async lastFundingTs(venue: string, symbol: string): Promise<number | null> {
    const rows = await this.query(`SELECT epoch_ms(max(ts)) AS t FROM funding_rates WHERE venue = ? AND symbol = ?`, [venue, symbol]);
    return toNumberOrNull(rows[0]?.['t']);
  }

  /** Returns the time (epoch ms) of the last stored point of an external series, or null. */
  async lastSeriesTs(source: string, series: string, timeframe: string): Promise<number | null> {
    const rows = await this.query(`SELECT epoch_ms(max(ts)) AS t FROM external_series WHERE source = ? AND series = ? AND timeframe = ?`, [source, series, timeframe]);
    return toNumberOrNull(rows[0]?.['t']);
  }

  /** True when the series already has rows with ts in [firstMs, lastMs]. */
  private async overlaps(table: string, series: Record<string, DuckDBValue>, firstMs: number, lastMs: number): Promise<boolean> {
    const keys = Object.keys(series);
    const rows = await this.query(
      `SELECT count(*) AS n FROM ${table} WHERE ${keys.map((c) => `${c} = ?`).join(' AND ')} AND ts BETWEEN epoch_ms(?::BIGINT) AND epoch_ms(?::BIGINT)`,
      [...Object.values(series), firstMs, lastMs],
    );
    return Number(rows[0]!['n']) > 0;
  }

  /** Appends bars of one series straight into `bar_data` through data chunks (no SQL per row). */
  private async appendBarData(seriesId: number, columns: readonly Float64Array[], length: number): Promise<void> {
    const appender = await this.openBarAppender(seriesId);
    appender.append(columns, 0, length);
    appender.close();
  }

  /** Bulk-loads double columns into the temp staging table `_stage` through DuckDB data chunks. */
  private async stage(columns: readonly Float64Array[], names: readonly string[], length: number): Promise<void> {
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE _stage (${names.map((n) => `${n} DOUBLE`).join(', ')})`);
    const appender = await this.connection.createAppender('_stage', 'main', 'temp');
    const chunkSize = 2048;
    const chunk = DuckDBDataChunk.create(names.map(() => DOUBLE), chunkSize);
    for (let start = 0; start < length; start += chunkSize) {
      const rows = Math.min(chunkSize, length - start);
      chunk.rowCount = rows;
      for (let c = 0; c < columns.length; c++) {
        const vector = chunk.getColumnVector(c) as DuckDBDoubleVector;
        writeDoubles(vector, columns[c]!, start, rows);
        vector.flush();
      }
      appender.appendDataChunk(chunk);
      chunk.reset();
    }
    appender.closeSync();
  }

  /**
   * Merges `_stage` into `table` for the series named by `series` (constant key columns) keyed further by `ts`
   * (staged as epoch ms) and `extraKeys`: updates rows whose values differ, inserts missing keys.
   * Values are `[column]` (taken from the staged column of that name) or `[column, sqlExpr]`.
   * Uniqueness of keys is kept by this merge (no index, so bulk inserts stay fast); `tm data check` reports duplicates.
   */
  private async merge(
    table: string,
    series: Record<string, DuckDBValue>,
    extraKeys: readonly (readonly [string, string])[],
    values: readonly (string | readonly [string] | readonly [string, string])[],
    valueParams: DuckDBValue[] = [],
    mode: MergeMode = 'upsert',
  ): Promise<UpsertCount> {
    const seriesCols = Object.keys(series);
    const seriesVals = Object.values(series);
    const cols = values.map((v) => (typeof v === 'string' ? [v, `s.${v}`] : [v[0], v[1] ?? `s.${v[0]}`]) as [string, string]);
    const match = [...seriesCols.map((c) => `t.${c} = ?`), 't.ts = epoch_ms(s.ts::BIGINT)', ...extraKeys.map(([k, e]) => `t.${k} = ${e}`)].join(' AND ');
    const range = await this.query(`SELECT min(ts) AS a, max(ts) AS b FROM _stage`);
    const overlap = range[0]!['a'] !== null && (await this.overlaps(table, series, Number(range[0]!['a']), Number(range[0]!['b'])));
    let updated = 0;
    let notExisting = '';
    if (overlap && mode === 'insert-missing') {
      notExisting = `WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE ${match})`;
    } else if (overlap) {
      const changed = await this.connection.run(
        `UPDATE ${table} t SET ${cols.map(([c, e]) => `${c} = ${e}`).join(', ')} FROM _stage s
         WHERE ${match} AND (${cols.map(([c, e]) => `t.${c} IS DISTINCT FROM ${e}`).join(' OR ')})`,
        [...valueParams, ...seriesVals, ...valueParams],
      );
      updated = changed.rowsChanged;
      notExisting = `WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE ${match})`;
    }
    const insertCols = [...seriesCols, 'ts', ...extraKeys.map(([k]) => k), ...cols.map(([c]) => c)];
    const inserted = await this.connection.run(
      `INSERT INTO ${table} (${insertCols.join(', ')})
       SELECT ${seriesCols.map(() => '?').join(', ')}, epoch_ms(s.ts::BIGINT), ${extraKeys.map(([, e]) => `${e}, `).join('')}${cols.map(([, e]) => e).join(', ')}
       FROM _stage s ${notExisting}`,
      [...seriesVals, ...valueParams, ...(notExisting ? seriesVals : [])],
    );
    return { inserted: inserted.rowsChanged, updated };
  }
}

/** Rows per DuckDB data chunk (DuckDB's vector size). */
const CHUNK_SIZE = 2048;

/** Streams bars into an open `bar_data` appender; `columns` = ts (epoch ms), open, high, low, close, volume. */
export interface BarAppender {
  append(columns: readonly Float64Array[], from: number, to: number): void;
  /** Flushes and closes; returns the number of rows appended. */
  close(): number;
}

function appendBarRows(appender: DuckDBAppender, chunk: DuckDBDataChunk, seriesId: number, columns: readonly Float64Array[], from: number, to: number): void {
  const ts = columns[0]!;
  for (let start = from; start < to; start += CHUNK_SIZE) {
    const rows = Math.min(CHUNK_SIZE, to - start);
    chunk.rowCount = rows;
    const id = chunk.getColumnVector(0) as DuckDBIntegerVector;
    for (let i = 0; i < rows; i++) id.setItem(i, seriesId);
    id.flush();
    const time = chunk.getColumnVector(1) as DuckDBTimestampVector;
    const micros = (time as unknown as { items?: unknown }).items;
    if (micros instanceof BigInt64Array) {
      for (let i = 0; i < rows; i++) micros[i] = BigInt(ts[start + i]!) * 1000n;
    } else {
      for (let i = 0; i < rows; i++) time.setItem(i, new DuckDBTimestampValue(BigInt(ts[start + i]!) * 1000n));
    }
    time.flush();
    for (let c = 1; c < columns.length; c++) {
      const vector = chunk.getColumnVector(c + 1) as DuckDBDoubleVector;
      writeDoubles(vector, columns[c]!, start, rows);
      vector.flush();
    }
    appender.appendDataChunk(chunk);
    chunk.reset();
  }
}

/** Copies `rows` values of `src` from `start` into a chunk vector, through its backing array when reachable. */
function writeDoubles(vector: DuckDBDoubleVector, src: Float64Array, start: number, rows: number): void {
  // The node-api keeps the chunk's values in a private Float64Array that flush() copies to DuckDB; writing it
  // in one `set` is ~20x faster than setItem per value. Fall back to setItem if the field ever disappears.
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof Float64Array) items.set(src.subarray(start, start + rows));
  else for (let i = 0; i < rows; i++) vector.setItem(i, src[start + i]!);
}

/** Refuses a store written with another schema version (no silent migration of market data). */
async function checkSchemaVersion(connection: DuckDBConnection, file: string): Promise<void> {
  const tables = (await connection.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_name = 'store_meta'`)).getRows();
  if (tables.length === 0) return;
  const rows = (await connection.runAndReadAll(`SELECT value FROM store_meta WHERE key = 'schema_version'`)).getRows();
  const version = rows.length ? Number(rows[0]![0]) : NaN;
  if (version !== SCHEMA_VERSION) {
    throw new DataError('store', `${file}: store schema version ${rows.length ? rows[0]![0] : '(none)'} is not the supported ${SCHEMA_VERSION}; import into a new store file (--db) or delete this one`, { path: file, version: rows[0]?.[0], expected: SCHEMA_VERSION });
  }
}

/**
 * The error for a failed open. DuckDB's lock error reads `... Conflicting lock is held in <program> (PID <pid>) ...`:
 * it becomes `locked`, naming the process (its command line, when /proc shows it) and what to do.
 */
function openError(file: string, readOnly: boolean, e: unknown): DataError {
  const message = (e as Error).message;
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message);
  if (lock) {
    const pid = Number(lock[2]);
    const command = processCommand(pid) ?? lock[1]!;
    const who = readOnly
      ? 'a writer (tm data import / fetch / resample, tm train) has it open; read-only commands can share the store with each other but not with a writer'
      : 'another process has it open (a writer, or readers such as tm data ls / check or tm backtest)';
    return new DataError('locked', `store ${file} is locked by process ${pid} (${command}): ${who}. Wait for that process to finish, stop it (kill ${pid}), or use another --db`, { path: file, pid, holder: command, readOnly }, { cause: e });
  }
  return new DataError('store', `cannot open DuckDB store ${file}: ${message}`, { path: file }, { cause: e });
}

/** The command line of process `pid` from /proc (Linux), or undefined. */
function processCommand(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x) => x !== '').join(' ');
    return text === '' ? undefined : text.length > 160 ? `${text.slice(0, 157)}...` : text;
  } catch {
    return undefined;
  }
}

function toNumberOrNull(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return Number(v);
}
