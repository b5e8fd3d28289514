import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DataError } from './data-error.js';
import { DATA_FILE_RE, detectFileKind, type FileKind } from './file-kind.js';
import type { MarketStore, UpsertCount } from './market-store.js';
import { readTable, type ParsedTable } from './table-reader.js';
import { checkSpacing, columnsFor, validateRows, validateTable } from './validate-table.js';

/** What one imported file contributed. */
export interface FileImportResult extends UpsertCount {
  readonly file: string;
  readonly kind: FileKind;
  readonly rows: number;
}

export interface ImportOptions {
  /** Venue (or series source) for every file; default: each file's parent folder name. */
  readonly venue?: string;
  /** Called after each file with (files done, files total, current file). */
  readonly onProgress?: (done: number, total: number, file: string) => void;
}

/**
 * Lists the importable data files at `path` (a file, or a folder searched recursively), sorted by path.
 * Files whose names match no known layout (README, etc.) are skipped; only `.csv`, `.csv.gz` and `.parquet` count, in
 * any letter case. Symbolic links are listed as they are: one that is dangling, loops or points at a folder fails
 * when it is read (DataError `io`).
 * @throws DataError `not_found` when `path` does not exist or holds no data file.
 */
export async function listDataFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new DataError('not_found', `${path}: no such file or folder`, { path });
  }
  if (info.isFile()) return [path];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new DataError('io', `${dir}: cannot list the folder (${(e as Error).message})`, { path: dir }, { cause: e });
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (DATA_FILE_RE.test(e.name)) out.push(p);
    }
  };
  await walk(path);
  if (out.length === 0) throw new DataError('not_found', `${path}: holds no .csv, .csv.gz or .parquet file`, { path });
  return out.sort();
}

/**
 * Imports every data file at `path` into `store` in ONE transaction: each file is parsed and validated
 * (see {@link validateTable}) and upserted; the first bad file stops the import and nothing is written.
 * Re-importing the same files inserts and updates nothing.
 * @throws DataError naming file, line and problem.
 */
export async function importPath(store: MarketStore, path: string, options: ImportOptions = {}): Promise<FileImportResult[]> {
  const files = await listDataFiles(path);
  const kinds = files.map((f) => detectFileKind(f, options.venue));
  let done = 0;
  try {
    return await store.transaction(async () => {
      const results: FileImportResult[] = [];
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        const kind = kinds[i]!;
        const { rows, counts } = kind.kind === 'bars' ? await importBars(store, file, kind) : await importOther(store, file, kind);
        results.push({ file: relative(process.cwd(), file) || file, kind, rows, ...counts });
        done = i + 1;
        options.onProgress?.(i + 1, files.length, file);
      }
      return results;
    });
  } catch (e) {
    if (!(e instanceof DataError) || files.length < 2) throw e;
    throw rolledBack(e, files, done);
  }
}

/** `e` with the multi-file outcome appended: which files were rolled back, which one failed, which were not read. */
function rolledBack(e: DataError, files: readonly string[], done: number): DataError {
  const name = (f: string) => relative(process.cwd(), f) || f;
  const undone = files.slice(0, done).map(name);
  const unread = files.length - done - 1;
  const outcome =
    `nothing was imported: ${undone.length > 0 ? `rolled back ${undone.length} file${undone.length > 1 ? 's' : ''} imported before it (${listShort(undone)})` : 'it was the first file'}` +
    `${unread > 0 ? `; ${unread} later file${unread > 1 ? 's were' : ' was'} not read` : ''}`;
  return new DataError(e.code, `${e.message} (${outcome})`, { ...e.context, failedFile: name(files[done]!), rolledBack: undone, notRead: files.slice(done + 1).map(name) }, { cause: e });
}

function listShort(names: readonly string[], max = 5): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/**
 * Bars into an EMPTY series stream: each parsed chunk is validated and appended while zlib inflates the next
 * (the transaction discards them if a later row is bad). Into a series with data: parse all, then upsert.
 */
async function importBars(store: MarketStore, file: string, kind: Extract<FileKind, { kind: 'bars' }>): Promise<{ rows: number; counts: UpsertCount }> {
  const series = await store.barSeries(kind.venue, kind.symbol, kind.timeframe);
  if (!series.created && (await store.barCount(series.id)) > 0) return importOther(store, file, kind);
  const appender = await store.openBarAppender(series.id);
  try {
    const table = await readTable(file, columnsFor(kind), store.connection, (t, from, to) => {
      validateRows(t, kind, from, to);
      const n = t.numbers;
      appender.append([n['ts']!, n['open']!, n['high']!, n['low']!, n['close']!, n['volume']!], from, to);
    });
    checkSpacing(table, kind);
    return { rows: table.length, counts: { inserted: table.length, updated: 0 } };
  } finally {
    appender.close();
  }
}

async function importOther(store: MarketStore, file: string, kind: FileKind): Promise<{ rows: number; counts: UpsertCount }> {
  const table = await readTable(file, columnsFor(kind), store.connection);
  validateTable(table, kind);
  checkSpacing(table, kind);
  return { rows: table.length, counts: await writeTable(store, kind, table) };
}

function writeTable(store: MarketStore, kind: FileKind, t: ParsedTable): Promise<UpsertCount> {
  const n = t.numbers;
  switch (kind.kind) {
    case 'bars':
      return store.upsertBars(kind.venue, kind.symbol, kind.timeframe, n as never);
    case 'funding':
      return store.upsertFunding(kind.venue, kind.symbol, n['ts']!, n['rate']!);
    case 'trades': {
      const side = Float64Array.from(t.strings['side']!, (s) => (s === 'buy' ? 1 : -1));
      return store.upsertTrades(kind.venue, kind.symbol, n['ts']!, n['price']!, n['qty']!, side);
    }
    case 'series': {
      const valueName = Object.keys(n).find((k) => k !== 'ts')!;
      return store.upsertSeries(kind.source, kind.series, kind.timeframe, n['ts']!, n[valueName]!);
    }
  }
}
