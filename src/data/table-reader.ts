import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseUtcMs } from '../core/time.js';
import { parseDecimalBytes, parseIsoSecondsBytes } from './csv-fast.js';
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
export async function readTable(file: string, spec: readonly ColumnSpec[], duck: DuckDBConnection): Promise<ParsedTable> {
  if (file.endsWith('.parquet')) return readParquet(file, spec, duck);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
    if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  } catch (e) {
    throw new DataError('io', `${file}: cannot read file (${(e as Error).message})`, { file }, { cause: e });
  }
  return parseCsv(file, bytes, spec);
}

/** Parses CSV text; exported for tests. See {@link readTable}. */
export function parseCsv(file: string, text: string | Uint8Array, spec: readonly ColumnSpec[]): ParsedTable {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const len = buf.length;
  let headerEnd = buf.indexOf(10);
  if (headerEnd < 0) headerEnd = len;
  if (len === 0 || headerEnd === 0) throw fileError('empty_file', file, 1, 'file is empty; expected a header line');
  const header = stripCr(Buffer.from(buf.buffer, buf.byteOffset, headerEnd).toString('utf8')).split(',').map((h) => h.trim());
  spec = resolveWildcard(header, spec);
  const index = mapHeader(file, 1, header, spec);
  const width = header.length;
  // Row count: newlines after the header, plus a last line without a trailing newline.
  let n = 0;
  for (let p = headerEnd + 1; p < len; p++) if (buf[p] === 10) n++;
  if (len > headerEnd + 1 && buf[len - 1] !== 10) n++;
  const numbers: Record<string, Float64Array> = {};
  const strings: Record<string, string[]> = {};
  // For each field position of a row: where its value goes.
  const kindAt = new Int8Array(width); // 0 time, 1 number, 2 string
  const numAt: (Float64Array | undefined)[] = new Array(width);
  const strAt: (string[] | undefined)[] = new Array(width);
  const specAt: ColumnSpec[] = new Array(width);
  spec.forEach((c, k) => {
    const at = index[k]!;
    specAt[at] = c;
    if (c.type === 'string') {
      strAt[at] = strings[c.name] = new Array<string>(n);
      kindAt[at] = 2;
    } else {
      numAt[at] = numbers[c.name] = new Float64Array(n);
      kindAt[at] = c.type === 'time' ? 0 : 1;
    }
  });
  let p = headerEnd + 1;
  for (let row = 0; row < n; row++) {
    const lineNo = row + 2;
    let lineEnd = buf.indexOf(10, p);
    if (lineEnd < 0) lineEnd = len;
    let contentEnd = lineEnd;
    if (contentEnd > p && buf[contentEnd - 1] === 13) contentEnd--;
    if (contentEnd === p) throw fileError('malformed_row', file, lineNo, 'empty line');
    let fieldStart = p;
    let field = 0;
    for (let q = p; q <= contentEnd; q++) {
      if (q < contentEnd && buf[q] !== 44) continue;
      if (field >= width) break;
      const kind = kindAt[field];
      if (kind === 2) {
        if (q === fieldStart) throw fileError('invalid_value', file, lineNo, `${specAt[field]!.name} is empty`, { field: specAt[field]!.name });
        strAt[field]![row] = latin1(buf, fieldStart, q);
      } else {
        let v = kind === 0 ? parseIsoSecondsBytes(buf, fieldStart, q) : parseDecimalBytes(buf, fieldStart, q);
        if (v !== v) v = parseCell(file, lineNo, specAt[field]!, latin1(buf, fieldStart, q));
        numAt[field]![row] = v;
      }
      field++;
      fieldStart = q + 1;
    }
    if (field !== width || fieldStart <= contentEnd) {
      let found = 1;
      for (let q = p; q < contentEnd; q++) if (buf[q] === 44) found++;
      throw fileError('malformed_row', file, lineNo, `expected ${width} fields (${header.join(',')}), found ${found}`);
    }
    p = lineEnd + 1;
  }
  return { file, length: n, firstLine: 2, numbers, strings };
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

function parseCell(file: string, line: number, spec: ColumnSpec, raw: string): number {
  if (spec.type === 'time') {
    const t = parseUtcMs(raw);
    if (!Number.isFinite(t)) {
      throw fileError('invalid_value', file, line, `${spec.name} ${JSON.stringify(raw)} is not an ISO-8601 UTC timestamp like 2022-01-01T00:00:00Z`, { field: spec.name, value: raw });
    }
    return t;
  }
  const v = raw.length === 0 || raw.trim() !== raw ? NaN : Number(raw);
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
