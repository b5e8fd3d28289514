import { growTo } from '../core/typed-arrays.js';
import type { Portfolio } from '../engine/portfolio.js';

/**
 * The per-bar records of a bar run (close time, equity, each instrument's position and cumulative mark-to-market PnL
 * at every close), kept as a log of account changes and written out at the end.
 *
 * Between two fills or funding payments the account (cash, quantities, entries, realized PnL, fees, funding) stays as
 * it is; only the marks move, and in a bar run they move only to the bars' closes (step 1 of each bar). So a close
 * costs one comparison of the portfolio's version: the account is logged only when it changed, and {@link writeOut}
 * replays the marks from the frame's closes. Every record is the expression the runner computed at each close before
 * (the same operations in the same order): the figures are bit for bit the same.
 */
export class BarRecords {
  private readonly n: number;
  /** Doubles per logged account: cash, then quantity, entry price and realized − fees − funding per instrument. */
  private readonly stride: number;
  /** Bar of each logged account (the close after which it held). */
  private at = new Int32Array(16);
  private log: Float64Array;
  private count = 0;
  /** The portfolio version of the last logged account (−1: none yet). */
  private version = -1;
  /** The marks at the first recorded close. */
  private readonly firstMarks: Float64Array;
  private first = -1;
  private last = -1;

  constructor(private readonly portfolio: Portfolio) {
    this.n = portfolio.quantity.length;
    this.stride = 1 + 3 * this.n;
    this.log = new Float64Array(16 * this.stride);
    this.firstMarks = new Float64Array(this.n);
  }

  /**
   * Bar `t` closed (after its paths, marks, funding, timers, delivery and dispatch). Closes are recorded in order,
   * without gaps.
   */
  close(t: number): void {
    if (this.portfolio.version !== this.version) this.logAccount(t);
    this.last = t;
  }

  private logAccount(t: number): void {
    const p = this.portfolio, n = this.n, S = this.stride;
    if (this.first < 0) {
      this.first = t;
      this.firstMarks.set(p.mark);
    }
    if (this.count === this.at.length) {
      this.at = growTo(this.at, 2 * this.count);
      this.log = growTo(this.log, 2 * this.count * S);
    }
    const k = this.count++;
    this.version = p.version;
    this.at[k] = t;
    const log = this.log, base = k * S;
    log[base] = p.cash;
    for (let i = 0; i < n; i++) {
      log[base + 1 + 3 * i] = p.quantity[i]!;
      log[base + 2 + 3 * i] = p.entryPrice[i]!;
      log[base + 3 + 3 * i] = p.realized[i]! - p.fees[i]! - p.funding[i]!;
    }
  }

  /**
   * How many recorded closes from index `from` on held a position (non-zero, not NaN) in any instrument: the count
   * `metrics.exposure` makes over the position columns {@link writeOut} writes (0 at the unrecorded closes).
   */
  exposedCloses(from: number): number {
    const { n, stride: S, at, log, count } = this;
    let exposed = 0;
    for (let k = 0; k < count; k++) {
      const start = Math.max(at[k]!, from), until = k + 1 < count ? at[k + 1]! : this.last + 1;
      if (start >= until) continue;
      for (let i = 0; i < n; i++) {
        const q = log[k * S + 1 + 3 * i]!;
        if (q !== 0 && q === q) {
          exposed += until - start;
          break;
        }
      }
    }
    return exposed;
  }

  /**
   * The close time of every recorded close `t` at index t (`ts[t] + timeframeMs`), 0 at the other indices, in a fresh
   * array of `length`: the times of {@link writeOut}'s records (a run's equity curve reads them when first asked).
   */
  closeTimes(ts: Float64Array, timeframeMs: number, length: number): Float64Array {
    const out = new Float64Array(length);
    for (let t = Math.max(this.first, 0); t <= this.last; t++) out[t] = ts[t]! + timeframeMs;
    return out;
  }

  /**
   * Writes the records of every recorded close `t` into index t of the arrays given: `equity[t]` (cash plus each
   * marked position's unrealized PnL, as {@link Portfolio.equityInto}), and `positions[i][t]` with `pnl[i][t]`
   * (realized − fees − funding + unrealized), and 0 at every other index: every index is written, whatever the
   * arrays held (they may be uninitialised memory, see `run-backtest`'s `uninitialised`). Marks start from those of
   * the first recorded close and take each present bar's close. A flat instrument's records are constants over each
   * logged account (position 0, PnL the realized figure, nothing added to equity), written with `fill`. `dense`:
   * every instrument has a bar at every time (no presence checks). Equity and the per-instrument columns can be
   * written in separate calls (a run writes its curve at its end, the others when first read): each call computes
   * the same expressions in the same order, so the figures are the same bit for bit however they are asked for.
   */
  writeOut(
    frame: { readonly present: readonly Uint8Array[]; readonly close: readonly Float64Array[] },
    out: { readonly equity?: Float64Array; readonly positions?: readonly Float64Array[]; readonly pnl?: readonly Float64Array[] },
    dense = false,
  ): void {
    const { n, stride: S, at, log, count } = this;
    const { present, close } = frame;
    const equity = out.equity, positions = out.positions, pnl = out.pnl;
    const length = equity?.length ?? positions?.[0]?.length ?? 0;
    // Indices outside the recorded closes (a run resumed or stopped early; none recorded at all): 0.
    const first = this.first < 0 ? length : this.first, end = this.first < 0 ? length : this.last + 1;
    for (const a of [...(equity ? [equity] : []), ...(positions ?? []), ...(pnl ?? [])]) {
      fillRange(a, 0, 0, first);
      fillRange(a, 0, end, a.length);
    }
    if (this.first < 0) return;
    const mark = Float64Array.from(this.firstMarks);
    for (let k = 0; k < count; k++) {
      const from = at[k]!, until = k + 1 < count ? at[k + 1]! : this.last + 1;
      const base = k * S;
      const cash = log[base]!;
      // Equity is cash plus each held instrument's unrealized PnL, added in instrument order. The first held instrument
      // writes cash + its PnL itself; only an account holding nothing is filled with the cash (a −0 too: bit for bit
      // what a write of every close gave). A fill of the cash first was one more pass over the records.
      let held = 0;
      while (held < n && log[base + 1 + 3 * held] === 0) held++;
      if (held === n && equity) fillRange(equity, cash, from, until);
      for (let i = 0; i < n; i++) {
        const q = log[base + 1 + 3 * i]!, entry = log[base + 2 + 3 * i]!, realized = log[base + 3 + 3 * i]!;
        const P = present[i]!, C = close[i]!;
        if (q === 0) {
          // Flat: PnL is the realized figure at every close; only the mark at the account's end is needed
          // (the last present close, for an account that follows whose first closes lack a bar of `i`).
          if (positions && pnl) {
            fillRange(positions[i]!, q, from, until); // a −0 too
            fillRange(pnl[i]!, realized + 0, from, until); // realized + 0 (never −0), as a write of every close gave
          }
          // Dense frames need none: every account's loop below takes its first bar's close before using the mark.
          if (!dense) {
            for (let t = until - 1; t >= from; t--) {
              if (P[t] !== 0) {
                mark[i] = C[t]!;
                break;
              }
            }
          }
          continue;
        }
        const m = mark[i]!;
        if (equity) mark[i] = addUnrealized(equity, i === held, cash, P, C, dense, m, q, entry, from, until);
        if (positions && pnl) mark[i] = positionsAndPnl(positions[i]!, pnl[i]!, P, C, dense, m, q, entry, realized, from, until);
      }
    }
  }
}

/**
 * Adds the unrealized PnL of a position of `q` entered at `entry` to `equity[t]` for t in [from, until) (`first`: the
 * first held instrument of the account, which writes `cash` + its PnL), the mark starting at `m` and moving to each
 * present close (`P`, `C`; `dense`: every bar present). A mark never set (NaN) values the position at its entry (adds
 * nothing). Returns the mark at `until`.
 */
function addUnrealized(equity: Float64Array, first: boolean, cash: number, P: Uint8Array, C: Float64Array, dense: boolean, m: number, q: number, entry: number, from: number, until: number): number {
  for (let t = from; t < until; t++) {
    if (dense || P[t] !== 0) m = C[t]!;
    const e = first ? cash : equity[t]!;
    equity[t] = m === m ? e + q * (m - entry) : e;
  }
  return m;
}

/** Writes `q` into `positions[t]` and `realized` + its unrealized PnL into `pnl[t]` for t in [from, until), marks as {@link addUnrealized}. */
function positionsAndPnl(positions: Float64Array, pnl: Float64Array, P: Uint8Array, C: Float64Array, dense: boolean, m: number, q: number, entry: number, realized: number, from: number, until: number): number {
  for (let t = from; t < until; t++) {
    if (dense || P[t] !== 0) m = C[t]!;
    positions[t] = q;
    pnl[t] = realized + q * (m - entry);
  }
  return m;
}

/** `a.fill(value, from, until)`, as a plain loop for short ranges (the builtin's call costs more than a few stores). */
function fillRange(a: Float64Array, value: number, from: number, until: number): void {
  if (until - from > 64) {
    a.fill(value, from, until);
    return;
  }
  for (let t = from; t < until; t++) a[t] = value;
}
