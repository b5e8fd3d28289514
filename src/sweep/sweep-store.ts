import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { aggregateStreamed, type SweepAggregate } from './aggregate.js';
import type { SweepConfig } from './sweep-config.js';
import { SweepError } from './sweep-error.js';
import { decodeReturns, encodeReturns, type TrialRow, type TrialSummary } from './trial.js';

/** Default file of the sweep results store (next to the market store's default `data/market.duckdb`). */
export const DEFAULT_SWEEP_STORE_PATH = 'data/sweeps.duckdb';

/** Returns the sweep store path: `explicit` (`--results`), else `TM_SWEEP_DB`, else {@link DEFAULT_SWEEP_STORE_PATH}. */
export function resolveSweepStorePath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env['TM_SWEEP_DB'] ?? DEFAULT_SWEEP_STORE_PATH);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sweeps (
  sweep_id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  config VARCHAR NOT NULL,
  trials INTEGER NOT NULL,
  source VARCHAR NOT NULL,
  aggregate VARCHAR
);
CREATE TABLE IF NOT EXISTS sweep_trials (
  sweep_id VARCHAR NOT NULL,
  config_hash VARCHAR NOT NULL,
  point VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  metrics VARCHAR,
  returns VARCHAR, -- base64 of the float64 per-bar returns
  start_ms DOUBLE,
  error VARCHAR,
  attempts INTEGER NOT NULL,
  PRIMARY KEY (sweep_id, config_hash)
);`;

/** A sweep as the store holds it. */
export interface SweepRecord {
  readonly sweepId: string;
  readonly name: string;
  readonly config: SweepConfig;
  readonly trials: number;
  /** `local` or the queue (`redis://host:port/<queue>`) it ran on. */
  readonly source: string;
  readonly aggregate: SweepAggregate | null;
}

const SUMMARY_COLUMNS = 'sweep_id, config_hash, point, status, metrics, start_ms, error, attempts';

/** A stored trial row's fields but its returns. */
function summaryOf(r: Record<string, unknown>): TrialSummary {
  return {
    sweepId: String(r['sweep_id']),
    configHash: String(r['config_hash']),
    point: JSON.parse(String(r['point'])) as TrialRow['point'],
    status: r['status'] as TrialRow['status'],
    metrics: r['metrics'] === null ? null : (JSON.parse(String(r['metrics'])) as TrialRow['metrics']),
    startMs: r['start_ms'] === null ? null : Number(r['start_ms']),
    error: r['error'] === null ? null : String(r['error']),
    attempts: Number(r['attempts']),
  };
}

/** A stored trial row, its returns decoded. */
function rowOf(r: Record<string, unknown>): TrialRow {
  return { ...summaryOf(r), returns: r['returns'] === null ? null : decodeReturns(String(r['returns'])) };
}

/**
 * The sweep results store (DuckDB): one row per sweep and one per trial, keyed by (sweep id, config hash), written by
 * ONE process (the `tm sweep` that runs or waits for the sweep: DuckDB allows one writing process). A trial row is
 * written once: a second `done` row of the same trial (a retried or duplicated job) is ignored; a `failed` row is
 * replaced only by a `done` one (a failed trial that succeeds when the sweep is run again).
 */
export class SweepStore {
  private constructor(private readonly instance: DuckDBInstance, private readonly connection: DuckDBConnection, readonly path: string) {}

  /** Opens (creating if needed) the store at `path` (`:memory:` for a throwaway one). @throws SweepError `store`. */
  static async open(path: string): Promise<SweepStore> {
    const file = path === ':memory:' ? path : resolve(path);
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      const instance = await DuckDBInstance.create(file);
      const connection = await instance.connect();
      await connection.run(SCHEMA);
      return new SweepStore(instance, connection, file);
    } catch (e) {
      throw new SweepError('store', `sweep store ${file}: cannot open: ${(e as Error).message}`, { path: file }, { cause: e });
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /** Records a sweep (kept as it is when its id is already stored). */
  async putSweep(sweep: Omit<SweepRecord, 'aggregate'>): Promise<void> {
    await this.connection.run('INSERT OR IGNORE INTO sweeps VALUES ($1, $2, $3, $4, $5, NULL)', [sweep.sweepId, sweep.name, JSON.stringify(sweep.config), sweep.trials, sweep.source]);
  }

  /** Stores the aggregate of a sweep (replacing an earlier one: it is a function of the rows). */
  async setAggregate(sweepId: string, aggregate: SweepAggregate): Promise<void> {
    await this.connection.run('UPDATE sweeps SET aggregate = $1 WHERE sweep_id = $2', [JSON.stringify(aggregate), sweepId]);
  }

  /** Writes the row of a trial once (see the class comment); returns whether the store changed. */
  async putRow(row: TrialRow): Promise<boolean> {
    const values = [
      row.sweepId,
      row.configHash,
      JSON.stringify(row.point),
      row.status,
      row.metrics === null ? null : JSON.stringify(row.metrics),
      row.returns === null ? null : encodeReturns(row.returns),
      row.startMs,
      row.error,
      row.attempts,
    ];
    await this.connection.run('BEGIN TRANSACTION');
    try {
      if (row.status === 'done') await this.connection.run("DELETE FROM sweep_trials WHERE sweep_id = $1 AND config_hash = $2 AND status = 'failed'", [row.sweepId, row.configHash]);
      const r = await this.connection.run('INSERT OR IGNORE INTO sweep_trials VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', values);
      await this.connection.run('COMMIT');
      return r.rowsChanged > 0;
    } catch (e) {
      await this.connection.run('ROLLBACK');
      throw new SweepError('store', `sweep store ${this.path}: cannot write trial ${row.configHash} of ${row.sweepId}: ${(e as Error).message}`, { sweepId: row.sweepId }, { cause: e });
    }
  }

  /** The rows of a sweep, in config-hash order (every row's returns in memory: see {@link forEachRow} for large sweeps). */
  async rows(sweepId: string): Promise<TrialRow[]> {
    const reader = await this.connection.runAndReadAll('SELECT * FROM sweep_trials WHERE sweep_id = $1 ORDER BY config_hash', [sweepId]);
    return (reader.getRowObjectsJS() as Record<string, unknown>[]).map(rowOf);
  }

  /** The rows of a sweep without their returns, in config-hash order: what tables, MLflow and counts need. */
  async summaries(sweepId: string): Promise<TrialSummary[]> {
    const reader = await this.connection.runAndReadAll(`SELECT ${SUMMARY_COLUMNS} FROM sweep_trials WHERE sweep_id = $1 ORDER BY config_hash`, [sweepId]);
    return (reader.getRowObjectsJS() as Record<string, unknown>[]).map(summaryOf);
  }

  /**
   * Calls `onRow` with each row of a sweep in config-hash order, reading `pageSize` rows at a time: a sweep of any
   * size passes through with one page of returns in memory (~250 KB a trial at 23,000 bars).
   */
  async forEachRow(sweepId: string, onRow: (row: TrialRow) => void, pageSize = 64): Promise<void> {
    for (let after = ''; ; ) {
      const reader = await this.connection.runAndReadAll('SELECT * FROM sweep_trials WHERE sweep_id = $1 AND config_hash > $2 ORDER BY config_hash LIMIT $3', [sweepId, after, pageSize]);
      const page = reader.getRowObjectsJS() as Record<string, unknown>[];
      for (const r of page) onRow(rowOf(r));
      if (page.length < pageSize) return;
      after = String(page[page.length - 1]!['config_hash']);
    }
  }

  /**
   * The aggregate of sweep `sweepId`'s stored rows (see SweepAggregator), read a page at a time with their returns
   * spilled to a temporary file: memory stays at a few numbers a trial, whatever the size of the sweep.
   * @throws SweepError `io` when the temporary file cannot be written or read.
   */
  async aggregate(sweepId: string, config: Pick<SweepConfig, 'name' | 'objective' | 'pbo'>, trials: number): Promise<SweepAggregate> {
    return aggregateStreamed(config, trials, (add) => this.forEachRow(sweepId, add));
  }

  /** How many done rows the store holds for sweep `sweepId` (without reading them). */
  async doneCount(sweepId: string): Promise<number> {
    const reader = await this.connection.runAndReadAll("SELECT count(*) AS done FROM sweep_trials WHERE sweep_id = $1 AND status = 'done'", [sweepId]);
    return Number((reader.getRowObjectsJS() as Record<string, unknown>[])[0]!['done']);
  }

  /** The sweep `sweepId`, or undefined when the store has none. */
  async sweep(sweepId: string): Promise<SweepRecord | undefined> {
    const reader = await this.connection.runAndReadAll('SELECT * FROM sweeps WHERE sweep_id = $1', [sweepId]);
    const r = (reader.getRowObjectsJS() as Record<string, unknown>[])[0];
    if (r === undefined) return undefined;
    return {
      sweepId,
      name: String(r['name']),
      config: JSON.parse(String(r['config'])) as SweepConfig,
      trials: Number(r['trials']),
      source: String(r['source']),
      aggregate: r['aggregate'] === null ? null : (JSON.parse(String(r['aggregate'])) as SweepAggregate),
    };
  }
}
