import { closeSync, existsSync, fstatSync, fsync, fsyncSync, readSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../core/app-error.js';

/**
 * The trading journal of a live run: one JSON record per line, appended, never rewritten. Every bar, decision
 * (order command), venue event, reconciliation difference and trading-state change of the run goes here, so the run
 * can be replayed through the backtester (`tm replay`) and audited. Every record is written (write(2): it survives
 * a crash of the process) when it happens — a bar before it is dispatched, a command before it leaves for the venue —
 * and fsync'd (it survives a crash of the machine) right after the bar's commands were handed over, off the event
 * loop, and always before the runner's state is saved.
 */
export type JournalRecord =
  /**
   * A life began. `stateBytes` (a restart): the journal's length when the state it restored was saved: what lives
   * journaled after that, before this start, is not in that state (they ended before saving again).
   */
  | { readonly k: 'start'; readonly at: number; readonly runId: string; readonly mode: string; readonly strategy: string; readonly instruments: readonly string[]; readonly timeframe: string; readonly restart: boolean; readonly stateBytes?: number; readonly config?: unknown; readonly regimes?: readonly unknown[] }
  | { readonly k: 'bar'; readonly i: number; readonly ts: number; readonly o: number; readonly h: number; readonly l: number; readonly c: number; readonly v: number; readonly s?: number | null; readonly warmup?: true }
  | { readonly k: 'submit'; readonly t: number; readonly id: string; readonly i: number; readonly side: string; readonly type: string; readonly q: number; readonly p?: number; readonly tif: string; readonly ro?: true; readonly po?: true }
  | { readonly k: 'cancel'; readonly t: number; readonly id: string; readonly i: number }
  | { readonly k: 'event'; readonly t: number; readonly e: string; readonly id: string; readonly venueId?: string; readonly reason?: string }
  | { readonly k: 'fill'; readonly t: number; readonly id: string; readonly i: number; readonly side: string; readonly q: number; readonly p: number; readonly fee: number; readonly ts: number; readonly exec?: string; readonly liq?: true }
  /**
   * A funding payment, booked at engine time `t`: `pay` paid by the account (negative: received) on instrument `i`'s
   * position `q` at `rate` and mark `p`, settlement or venue time `ts`. A venue run: the venue's own payment, execution
   * `exec`. A paper run: charged by the runner at the settlement's close (`t` = `ts`) at the rate the venue published,
   * `exec` = `paper-<ts>-<i>`, `fallback` when the venue listed none and the experiment's fallback rate applied.
   */
  | { readonly k: 'funding'; readonly t: number; readonly i: number; readonly exec: string; readonly pay: number; readonly rate: number; readonly p: number; readonly q: number; readonly ts: number; readonly fallback?: true }
  | { readonly k: 'reconcile'; readonly t: number; readonly kind: string; readonly detail: Readonly<Record<string, unknown>> }
  | { readonly k: 'state'; readonly t: number; readonly state: string; readonly reason: string; readonly trigger?: string }
  | { readonly k: 'swap'; readonly t: number; readonly model: string; readonly from: string; readonly to: string; readonly ok: boolean; readonly reason?: string }
  /** The run ended; `left`: what its applied stop left undone at the venue (see `stopLeftOver`). */
  | { readonly k: 'stop'; readonly t: number; readonly reason: string; readonly left?: string };

export type JournalErrorCode = 'journal_write_failed' | 'journal_corrupt';
export class JournalError extends AppError<JournalErrorCode> {}

/** Appends records to one journal file (created with its folder when missing). */
export class Journal {
  private readonly fd: number;
  private dirty = false;
  /** Records appended by this process. */
  count = 0;
  /** fsyncs started by this process ({@link sync}, {@link syncAsync}): none when nothing was appended since the last one. */
  syncs = 0;

  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'a');
    } catch (e) {
      throw new JournalError('journal_write_failed', `cannot open the trading journal ${path}: ${(e as Error).message}`, { path }, { cause: e });
    }
  }

  /** Bytes in the journal file (held records not included). */
  size(): number {
    return fstatSync(this.fd).size;
  }

  /** Lines appended while held (see {@link hold}); undefined: each append is written at once. */
  private held: string[] | undefined;

  /**
   * Holds the records appended from now on in memory until {@link release} writes them in one write (a warm-up's
   * bar records: nothing is decided or sent meanwhile, and a crash before the release loses only lines that the
   * next start journals again). {@link sync} and {@link close} release first.
   */
  hold(): void {
    this.held ??= [];
  }

  /** Writes the held records (one write) and appends at once again. */
  release(): void {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined && held.length > 0) this.write(held.join(''), 'held records');
  }

  /** Appends one record (written at once unless held, made durable by the next {@link sync}). */
  append(record: JournalRecord): void {
    const line = JSON.stringify(record) + '\n';
    this.count++;
    if (this.held !== undefined) this.held.push(line);
    else this.write(line, record.k);
  }

  /**
   * Appends a bar record — the same line as `append({ k: 'bar', i, ts, o, h, l, c, v, s, warmup })` (`s` left out
   * when undefined, NaN written as null; `warmup` only when true), formatted without building the record (a warm-up
   * journals hundreds of bars per instrument).
   */
  appendBar(i: number, ts: number, o: number, h: number, l: number, c: number, v: number, s: number | undefined, warmup: boolean): void {
    const line = `{"k":"bar","i":${i},"ts":${num(ts)},"o":${num(o)},"h":${num(h)},"l":${num(l)},"c":${num(c)},"v":${num(v)}${s === undefined ? '' : `,"s":${num(s)}`}${warmup ? ',"warmup":true' : ''}}\n`;
    this.count++;
    if (this.held !== undefined) this.held.push(line);
    else this.write(line, 'bar');
  }

  private write(text: string, what: string): void {
    try {
      writeSync(this.fd, text);
    } catch (e) {
      throw new JournalError('journal_write_failed', `cannot append to the trading journal ${this.path}: ${(e as Error).message}`, { path: this.path, record: what }, { cause: e });
    }
    this.dirty = true;
  }

  /** Appends one record and makes everything appended so far durable (fsync). */
  appendDurable(record: JournalRecord): void {
    this.append(record);
    this.sync();
  }

  /** fsyncs the file when something was appended since the last sync. */
  sync(): void {
    this.release();
    if (!this.dirty) return;
    this.syncs++;
    try {
      fsyncSync(this.fd);
    } catch (e) {
      throw new JournalError('journal_write_failed', `cannot fsync the trading journal ${this.path}: ${(e as Error).message}`, { path: this.path }, { cause: e });
    }
    this.dirty = false;
  }

  /**
   * fsyncs on libuv's thread pool (the event loop goes on: a command just handed over leaves meanwhile); resolves when
   * everything appended before the call is durable.
   */
  syncAsync(): Promise<void> {
    this.release();
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    this.syncs++;
    return new Promise((resolve, reject) =>
      fsync(this.fd, (e) => (e ? reject(new JournalError('journal_write_failed', `cannot fsync the trading journal ${this.path}: ${e.message}`, { path: this.path }, { cause: e })) : resolve())),
    );
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }
}

/**
 * The complete records of a journal from byte `offset` on (a record boundary, e.g. its size at an earlier moment); a
 * torn last line is left out.
 * @throws JournalError `journal_corrupt` naming the file and the line's offset.
 */
export function readJournalTail(path: string, offset: number): JournalRecord[] {
  const fd = openSync(path, 'r');
  let text: string;
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    text = buf.toString('utf8', 0, read);
  } finally {
    closeSync(fd);
  }
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a torn line
  return lines.map((line, n) => {
    try {
      return JSON.parse(line) as JournalRecord;
    } catch (e) {
      throw new JournalError('journal_corrupt', `trading journal ${path}: line ${n + 1} after byte ${offset} is not a journal record: ${(e as Error).message}`, { path, offset });
    }
  });
}

/** A number as JSON writes it (NaN and infinities as null). */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/** A journal read back: its records, and whether its last line was torn (a crash in the middle of a write). */
export interface JournalContents {
  readonly records: readonly JournalRecord[];
  /** The byte offset in the file of each record's line (the record's index in {@link records}). */
  readonly offsets: readonly number[];
  readonly tornTail: boolean;
}

/**
 * Reads a journal. A last line without its newline is a write cut by a crash: dropped and reported as `tornTail`;
 * any other unreadable line is corruption.
 * @throws JournalError `journal_corrupt` naming the file and line.
 */
export function readJournal(path: string): JournalContents {
  if (!existsSync(path)) throw new JournalError('journal_corrupt', `trading journal ${path} does not exist`, { path });
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop()!; // '' when the file ends with a newline
  const records: JournalRecord[] = [];
  const offsets: number[] = [];
  let offset = 0;
  lines.forEach((line, n) => {
    try {
      const record = JSON.parse(line) as JournalRecord;
      if (typeof record !== 'object' || record === null || typeof record.k !== 'string') throw new Error('not a journal record');
      records.push(record);
      offsets.push(offset);
      offset += Buffer.byteLength(line) + 1;
    } catch (e) {
      throw new JournalError('journal_corrupt', `trading journal ${path} line ${n + 1} is not a journal record: ${(e as Error).message}`, { path, line: n + 1 });
    }
  });
  return { records, offsets, tornTail: last.length > 0 };
}
