import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseUtcMs } from '../core/time.js';
import { parseIsoSecondsBytes, type DateMemo } from './csv-fast.js';
import { DataError, fileError } from './data-error.js';

export type ColumnType = 'time' | 'number' | 'string';
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
}

/**
 * A file's rows as typed columns: `time` columns hold epoch ms and `number` columns doubles (both Float64Array),
 * `string` columns plain strings. Row `i` came from line `i + firstLine` of the file (CSV: the header is line 1).
 */
export interface ParsedTable {
  readonly file: string;
  readonly length: number;
  readonly firstLine: number;
  readonly numbers: Readonly<Record<string, Float64Array>>;
  readonly strings: Readonly<Record<string, string[]>>;
}

/**
 * Reads a CSV (optionally gzip-compressed) or Parquet file whose columns are exactly `spec` (any order).
 * Every cell is parsed and checked for its type; nothing about row order or value ranges is checked here.
 * @throws DataError naming the file, the line and the problem for unreadable files, missing/unknown columns,
 * rows with the wrong number of fields, and cells that are not a finite number / a UTC timestamp.
 */
export async function readTable(
  file: string,
  spec: readonly ColumnSpec[],
  duck: DuckDBConnection,
  onRows?: (rowsSoFar: ParsedTable, from: number, to: number) => void,
): Promise<ParsedTable> {
  if (/\.parquet$/i.test(file)) {
    const table = await readParquet(file, spec, duck);
    onRows?.(table, 0, table.length);
    return table;
  }
  const parser = new CsvColumnParser(file, spec, await expectedBytes(file));
  let done = 0;
  try {
    // Streamed: zlib inflates the next chunk on the libuv thread pool while this thread parses the current one
    // (and `onRows` consumes the rows parsed so far, e.g. validates and appends them to the store).
    // `pipe` does not forward the source's errors: they go to the gunzip stream by hand, so an unreadable file
    // (dangling link, symlink loop, a folder, EACCES) ends the loop below with an error instead of an unhandled 'error'.
    const source = createReadStream(file, { highWaterMark: 1 << 20 });
    let stream: NodeJS.ReadableStream = source;
    if (/\.gz$/i.test(file)) {
      const gunzip = createGunzip({ chunkSize: 1 << 18 });
      source.on('error', (e) => gunzip.destroy(e));
      stream = source.pipe(gunzip);
    }
    for await (const chunk of stream) {
      parser.push(chunk as Buffer);
      if (onRows && parser.rowCount > done) {
        onRows(parser.view(), done, parser.rowCount);
        done = parser.rowCount;
      }
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? 'no such file (dangling symbolic link?)' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'permission denied' : /incorrect header check|unexpected end of file|invalid/i.test((e as Error).message) ? `not valid gzip data: ${(e as Error).message}` : (e as Error).message;
    throw new DataError('io', `${file}: cannot read file (${why})`, { file, ...(code ? { errno: code } : {}) }, { cause: e });
  }
  const table = parser.finish();
  if (onRows && table.length > done) onRows(table, done, table.length);
  return table;
}

/** Parses CSV text in one go; see {@link readTable}. */
export function parseCsv(file: string, text: string | Uint8Array, spec: readonly ColumnSpec[]): ParsedTable {
  const parser = new CsvColumnParser(file, spec);
  parser.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.length));
  return parser.finish();
}

/**
 * Incremental CSV → typed columns parser: feed byte chunks with {@link push} (lines may straddle chunks),
 * then {@link finish}. Common field forms are parsed straight from bytes (see csv-fast.ts).
 */
export class CsvColumnParser {
  private carry: Buffer = Buffer.alloc(0);
  private header: string[] | undefined;
  /** Line number of the first blank line seen; blank lines are accepted only at the end of the file. */
  private blankAt = 0;
  private width = 0;
  private rows = 0;
  private capacity = 0;
  private kindAt = new Int8Array(0); // per field position: 0 time, 1 number, 2 string
  private numAt: (Float64Array | undefined)[] = [];
  private strAt: (string[] | undefined)[] = [];
  private specAt: ColumnSpec[] = [];

  /** `expectedBytes` (the decompressed size, when known) sizes the columns up front instead of growing them. */
  constructor(
    private readonly file: string,
    private spec: readonly ColumnSpec[],
    private readonly expectedBytes = 0,
  ) {}

  /** Parses every complete line of `chunk` (with the partial line left from the previous chunk). */
  push(chunk: Buffer): void {
    let buf: Buffer = chunk;
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, chunk]);
    }
    const lastNewline = buf.lastIndexOf(10);
    if (lastNewline < 0) {
      this.carry = Buffer.from(buf);
      return;
    }
    this.parseLines(buf, lastNewline + 1);
    this.carry = Buffer.from(buf.subarray(lastNewline + 1));
  }

  /** Rows parsed so far. */
  get rowCount(): number {
    return this.rows;
  }

  /**
   * The rows parsed so far, without copying: column arrays may be longer than `length` and are replaced when the
   * parser grows them, so take a new view after each {@link push}.
   */
  view(): ParsedTable {
    const numbers: Record<string, Float64Array> = {};
    const strings: Record<string, string[]> = {};
    for (let f = 0; f < this.width; f++) {
      const name = this.specAt[f]!.name;
      if (this.kindAt[f] === 2) strings[name] = this.strAt[f]!;
      else numbers[name] = this.numAt[f]!;
    }
    return { file: this.file, length: this.rows, firstLine: 2, numbers, strings };
  }

  /** Parses the last line (if it has no newline) and returns the columns. */
  finish(): ParsedTable {
    if (this.carry.length > 0) {
      const tail = Buffer.concat([this.carry, Buffer.from([10])]);
      this.carry = Buffer.alloc(0);
      this.parseLines(tail, tail.length);
    }
    if (this.header === undefined) throw fileError('empty_file', this.file, 1, 'file is empty; expected a header line');
    const numbers: Record<string, Float64Array> = {};
    const strings: Record<string, string[]> = {};
    for (let f = 0; f < this.width; f++) {
      const name = this.specAt[f]!.name;
      if (this.kindAt[f] === 2) strings[name] = this.strAt[f]!.slice(0, this.rows);
      else numbers[name] = this.numAt[f]!.length === this.rows ? this.numAt[f]! : this.numAt[f]!.slice(0, this.rows);
    }
    return { file: this.file, length: this.rows, firstLine: 2, numbers, strings };
  }

  private readHeader(buf: Buffer, end: number): void {
    const text = stripCr(Buffer.from(buf.buffer, buf.byteOffset, end).toString('utf8'));
    if (text.length === 0) throw fileError('empty_file', this.file, 1, 'file is empty; expected a header line');
    const header = text.split(',').map((h) => h.trim());
    this.spec = resolveWildcard(header, this.spec);
    const index = mapHeader(this.file, 1, header, this.spec);
    this.header = header;
    this.width = header.length;
    this.kindAt = new Int8Array(this.width);
    this.numAt = new Array(this.width);
    this.strAt = new Array(this.width);
    this.specAt = new Array(this.width);
    this.spec.forEach((c, k) => {
      const at = index[k]!;
      this.specAt[at] = c;
      this.kindAt[at] = c.type === 'string' ? 2 : c.type === 'time' ? 0 : 1;
    });
    this.initialCapacity = true;
  }

  private initialCapacity = false;
  private readonly dateMemo: DateMemo = { year: -1, month: -1, day: -1, days: 0 };

  private grow(capacity: number): void {
    for (let f = 0; f < this.width; f++) {
      if (this.kindAt[f] === 2) {
        this.strAt[f] ??= [];
      } else {
        const next = new Float64Array(capacity);
        if (this.numAt[f]) next.set(this.numAt[f]!.subarray(0, this.rows));
        this.numAt[f] = next;
      }
    }
    this.capacity = capacity;
  }

  /** Parses the complete lines in buf[0, end) (end is just past a newline). */
  private parseLines(buf: Buffer, end: number): void {
    const { file, kindAt, numAt, strAt, specAt } = this;
    let p = 0;
    if (this.header === undefined) {
      const headerEnd = buf.indexOf(10);
      this.readHeader(buf, headerEnd);
      p = headerEnd + 1;
      return this.parseLines(buf.subarray(p), end - p);
    }
    const width = this.width;
    if (this.initialCapacity) {
      // Size the columns from the first chunk's mean line length and the expected total size (10% slack).
      this.initialCapacity = false;
      const sample = Math.min(end, 1 << 16);
      let lines = 0;
      for (let q = 0; q < sample; q++) if (buf[q] === 10) lines++;
      const perLine = lines > 0 ? sample / lines : 64;
      this.grow(Math.max(1024, Math.ceil((Math.max(this.expectedBytes, end) / perLine) * 1.1)));
    }
    while (p < end) {
      const row = this.rows;
      if (row === this.capacity) {
        this.grow(this.capacity * 2);
        return this.parseLines(buf.subarray(p), end - p);
      }
      const lineNo = row + 2;
      if (buf[p] === 10 || (buf[p] === 13 && buf[p + 1] === 10)) {
        this.blankAt ||= lineNo;
        p += buf[p] === 10 ? 1 : 2;
        continue;
      }
      if (this.blankAt > 0) throw fileError('malformed_row', file, this.blankAt, 'empty line before more rows (blank lines are allowed only at the end of the file)');
      // One pass per line: each field is parsed while it is scanned; `q` ends on the field's terminator.
      let q = p;
      for (let field = 0; field < width; field++) {
        const kind = kindAt[field];
        const start = q;
        let v = NaN;
        if (kind === 1) {
          const negative = buf[q] === 45;
          if (negative) q++;
          let mantissa = 0;
          let digits = 0;
          let fraction = -1;
          for (;;) {
            const c = buf[q]!;
            if (c >= 48 && c <= 57) {
              mantissa = mantissa * 10 + (c - 48);
              digits++;
              if (fraction >= 0) fraction++;
            } else if (c === 46 && fraction < 0) {
              fraction = 0;
            } else {
              break;
            }
            q++;
          }
          // Clinger's fast path (exact): mantissa < 2^53, power of ten <= 1e22.
          if (digits > 0 && fraction !== 0 && mantissa <= 9007199254740991 && fraction <= 22 && isTerminator(buf[q])) {
            v = fraction > 0 ? mantissa / POW10[fraction]! : mantissa;
            if (negative) v = -v;
          }
        } else if (kind === 0 && isTerminator(buf[q + 20])) {
          v = parseIsoSecondsBytes(buf, q, q + 20, this.dateMemo);
          if (v === v) q += 20;
        }
        if (v !== v) {
          // General path: find the field's end, then parse its text.
          q = start;
          while (!isTerminator(buf[q])) q++;
          if (kind === 2) {
            if (q === start) throw fileError('invalid_value', file, lineNo, `${specAt[field]!.name} is empty`, { field: specAt[field]!.name });
            strAt[field]![row] = latin1(buf, start, q);
          } else {
            v = parseCell(file, lineNo, specAt[field]!, latin1(buf, start, q));
          }
        }
        if (kind !== 2) numAt[field]![row] = v;
        const t = buf[q];
        if (field < width - 1) {
          if (t !== 44) throw this.fieldCountError(buf, p, lineNo);
          q++;
        } else if (t === 44) {
          throw this.fieldCountError(buf, p, lineNo);
        }
      }
      // q is on '\r' or '\n' (every parsed line ends with a newline, see push/finish).
      if (buf[q] === 13) q++;
      if (buf[q] !== 10) throw this.fieldCountError(buf, p, lineNo);
      this.rows = row + 1;
      p = q + 1;
    }
  }

  private fieldCountError(buf: Buffer, lineStart: number, lineNo: number): DataError {
    let found = 1;
    for (let q = lineStart; buf[q] !== 10 && q < buf.length; q++) if (buf[q] === 44) found++;
    return fileError('malformed_row', this.file, lineNo, `expected ${this.width} fields (${this.header!.join(',')}), found ${found}`);
  }
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** True for the bytes that end a CSV field: ',' '\r' '\n' (and the end of the buffer). */
function isTerminator(c: number | undefined): boolean {
  return c === 44 || c === 10 || c === 13 || c === undefined;
}

/** Decompressed size of a file: gzip's ISIZE trailer (size mod 2^32) for .gz, else the file size; 0 if unknown. */
async function expectedBytes(file: string): Promise<number> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (!/\.gz$/i.test(file)) return size;
      if (size < 18) return 0;
      const tail = Buffer.alloc(4);
      await handle.read(tail, 0, 4, size - 4);
      return tail.readUInt32LE(0);
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** A plain decimal number, optionally signed and with an exponent (no hex, no spaces, no Infinity/NaN). */
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseCell(file: string, line: number, spec: ColumnSpec, raw: string): number {
  if (spec.type === 'time') {
    const t = parseUtcMs(raw);
    if (!Number.isFinite(t)) {
      throw fileError('invalid_value', file, line, `${spec.name} ${JSON.stringify(raw)} is not an ISO-8601 UTC timestamp like 2022-01-01T00:00:00Z`, { field: spec.name, value: raw });
    }
    return t;
  }
  const v = DECIMAL_RE.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(v)) {
    throw fileError('invalid_value', file, line, `${spec.name} ${JSON.stringify(raw)} is not a finite number`, { field: spec.name, value: raw });
  }
  return v;
}

/**
 * A spec column named `*` stands for "the one other column" (e.g. the value column of an external series);
 * it takes the name of the first header column the spec does not name, and the parsed column is stored under that name.
 */
function resolveWildcard(header: readonly string[], spec: readonly ColumnSpec[]): readonly ColumnSpec[] {
  if (!spec.some((c) => c.name === '*')) return spec;
  const named = new Set(spec.map((c) => c.name));
  const other = header.find((h) => !named.has(h)) ?? 'value';
  return spec.map((c) => (c.name === '*' ? { ...c, name: other } : c));
}

function mapHeader(file: string, line: number, header: readonly string[], spec: readonly ColumnSpec[]): number[] {
  const expected = spec.map((c) => c.name).join(',');
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw fileError('unknown_column', file, line, `column ${JSON.stringify(h)} appears twice; expected columns ${expected}`, { column: h });
    seen.add(h);
    if (!spec.some((c) => c.name === h)) {
      throw fileError('unknown_column', file, line, `unknown column ${JSON.stringify(h)}; expected columns ${expected}`, { column: h });
    }
  }
  return spec.map((c) => {
    const k = header.indexOf(c.name);
    if (k < 0) throw fileError('missing_column', file, line, `missing column ${JSON.stringify(c.name)}; expected columns ${expected}`, { column: c.name });
    return k;
  });
}

async function readParquet(file: string, spec: readonly ColumnSpec[], duck: DuckDBConnection): Promise<ParsedTable> {
  const path = `'${file.replaceAll("'", "''")}'`;
  let described;
  try {
    described = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${path})`)).getRowObjectsJS();
  } catch (e) {
    throw new DataError('io', `${file}: cannot read Parquet file (${(e as Error).message})`, { file }, { cause: e });
  }
  const header = described.map((r) => String(r['column_name']));
  spec = resolveWildcard(header, spec);
  const types = new Map(described.map((r) => [String(r['column_name']), String(r['column_type'])]));
  const index = mapHeader(file, 0, header, spec);
  void index;
  const select = spec.map((c) => {
    const q = `"${c.name.replaceAll('"', '""')}"`;
    const t = types.get(c.name)!;
    if (c.type === 'time' && t.startsWith('TIMESTAMP')) return `epoch_ms(${q}::TIMESTAMP)::VARCHAR AS ${q}`;
    return `${q}::VARCHAR AS ${q}`;
  });
  const reader = await duck.runAndReadAll(`SELECT ${select.join(', ')} FROM read_parquet(${path})`);
  const n = reader.currentRowCount;
  const numbers: Record<string, Float64Array> = {};
  const strings: Record<string, string[]> = {};
  const columns = reader.getColumnsJS();
  spec.forEach((c, k) => {
    const values = columns[k]!;
    if (c.type === 'string') {
      strings[c.name] = values.map((v, i) => {
        if (v === null || v === '') throw fileError('invalid_value', file, i + 1, `${c.name} is empty`, { field: c.name });
        return String(v);
      });
    } else {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null) throw fileError('invalid_value', file, i + 1, `${c.name} is null`, { field: c.name });
        out[i] = parseCell(file, i + 1, c, String(v));
      }
      numbers[c.name] = out;
    }
  });
  return { file, length: n, firstLine: 1, numbers, strings };
}
