import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SweepError } from './sweep-error.js';

/**
 * Where a sweep aggregate keeps each trial's per-bar returns between the rows arriving and the PBO pass that needs
 * them (the common window of all trials is known only when the last row is in). `append` keeps a series and
 * returns its id; `read` gives a view of values [from, from + count) of series `id`, valid until the next `read`.
 */
export interface ReturnsSpill {
  append(returns: Float64Array): number;
  read(id: number, from: number, count: number): Float64Array;
  /** Frees what it holds (a spill file is deleted); reads after it throw. */
  close(): void;
}

/** Holds the series themselves (no copy): for rows that are in memory anyway. */
export class MemoryReturns implements ReturnsSpill {
  private readonly series: Float64Array[] = [];

  append(returns: Float64Array): number {
    this.series.push(returns);
    return this.series.length - 1;
  }

  read(id: number, from: number, count: number): Float64Array {
    const s = this.series[id];
    if (s === undefined || from < 0 || from + count > s.length) throw outOfRange('memory', id, from, count, s?.length);
    return s.subarray(from, from + count);
  }

  close(): void {
    this.series.length = 0;
  }
}

/**
 * Writes each series' float64 bytes to a temporary file (in `dir`, default the OS temp folder) and reads them back
 * through one reused buffer: the aggregate holds one series at a time, whatever the number of trials. The file is
 * deleted by `close` (a process killed before it leaves a `tm-sweep-returns-*` folder in the temp folder).
 */
export class FileReturns implements ReturnsSpill {
  private readonly folder: string;
  private readonly file: string;
  private fd: number;
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private end = 0;
  private buffer = new Float64Array(0);

  /** @throws SweepError `io` when the temporary file cannot be created. */
  constructor(dir: string = tmpdir()) {
    try {
      this.folder = mkdtempSync(join(dir, 'tm-sweep-returns-'));
      this.file = join(this.folder, 'returns.f64');
      this.fd = openSync(this.file, 'w+');
    } catch (e) {
      throw new SweepError('io', `sweep aggregate: cannot create a returns file in ${dir}: ${(e as Error).message}`, { path: dir }, { cause: e });
    }
  }

  /** @throws SweepError `io` when the file cannot be written (e.g. the disk is full), `invalid_state` after close. */
  append(returns: Float64Array): number {
    if (this.fd < 0) throw new SweepError('invalid_state', `sweep aggregate: append to ${this.file} after it was closed`, { path: this.file });
    const bytes = new Uint8Array(returns.buffer, returns.byteOffset, returns.byteLength);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done, this.end + done);
    } catch (e) {
      throw new SweepError('io', `sweep aggregate: cannot write ${bytes.length} bytes of returns to ${this.file}: ${(e as Error).message}`, { path: this.file }, { cause: e });
    }
    this.offsets.push(this.end);
    this.lengths.push(returns.length);
    this.end += bytes.length;
    return this.offsets.length - 1;
  }

  /** @throws SweepError `io` when the file cannot be read or is shorter than what was written. */
  read(id: number, from: number, count: number): Float64Array {
    const length = this.lengths[id];
    if (this.fd < 0 || length === undefined || from < 0 || from + count > length) throw outOfRange(this.fd < 0 ? 'closed file' : 'file', id, from, count, length);
    if (this.buffer.length < count) this.buffer = new Float64Array(Math.max(count, this.buffer.length * 2));
    const bytes = new Uint8Array(this.buffer.buffer, 0, count * 8);
    const at = this.offsets[id]! + from * 8;
    try {
      for (let done = 0; done < bytes.length; ) {
        const n = readSync(this.fd, bytes, done, bytes.length - done, at + done);
        if (n === 0) throw new Error(`end of file at byte ${at + done}`);
        done += n;
      }
    } catch (e) {
      throw new SweepError('io', `sweep aggregate: cannot read series ${id} from ${this.file}: ${(e as Error).message}`, { path: this.file }, { cause: e });
    }
    return this.buffer.subarray(0, count);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.folder, { recursive: true, force: true });
  }
}

function outOfRange(where: string, id: number, from: number, count: number, length: number | undefined): SweepError {
  const held = length === undefined ? 'no such series' : `series ${id} holds ${length} values`;
  return new SweepError('invalid_state', `sweep aggregate: read of values ${from}..${from + count} of series ${id} from the ${where}: ${held}`, { id, from, count });
}
