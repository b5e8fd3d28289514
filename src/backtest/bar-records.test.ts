import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import type { BarFrame } from '../data/bar-frame.js';
import type { Kernel } from '../engine/kernel.js';
import { Portfolio } from '../engine/portfolio.js';
import type { Strategy } from '../engine/strategy.js';
import { backtestSpec, booked, testInstrument } from '../../test/support/engine-scenarios.js';
import { makeFrame, randomWalkBars } from '../../test/support/frames.js';
import { BarRecords } from './bar-records.js';
import { TableFundingModel } from './execution-models.js';
import { runBacktest, type BacktestControl, type BacktestSpec } from './run-backtest.js';

/**
 * BarRecords writes the per-bar records at the end from a log of account changes. The reference here is what the
 * runner computed at every close before: `Portfolio.equityInto`, the quantities, and realized − fees − funding +
 * q·(mark − entry) per instrument, read off the kernel after each close (at the next bar's `beforeBar`, where
 * nothing happened since the close, and at `inspect` for the last one). Equal bit for bit.
 */
interface Row {
  readonly equity: number;
  readonly positions: readonly number[];
  readonly pnl: readonly number[];
}

function closeRow(kernel: Kernel): Row {
  const p = kernel.portfolio;
  const e = new Float64Array(1);
  p.equityInto(e, 0);
  return {
    equity: e[0]!,
    positions: Array.from(p.quantity),
    pnl: Array.from(p.quantity, (q, i) => p.realized[i]! - p.fees[i]! - p.funding[i]! + (q === 0 ? 0 : q * (p.mark[i]! - p.entryPrice[i]!))),
  };
}

/** Control hooks that collect a reference row per close (rows[k] = the k-th close this run recorded). */
function reference(extra: BacktestControl = {}): { rows: Row[]; control: BacktestControl } {
  const rows: Row[] = [];
  let started = false;
  return {
    rows,
    control: {
      ...extra,
      beforeBar: (kernel) => {
        if (started) rows.push(closeRow(kernel));
        started = true;
      },
      inspect: (kernel) => void rows.push(closeRow(kernel)),
    },
  };
}

/** Seeded random trading on every instrument: market and limit orders, reversals, flat spells. */
function randomTrader(seed: number): Strategy {
  let rand = seededRandom(seed);
  return {
    name: 'random',
    onStart() {
      rand = seededRandom(seed);
    },
    onBar(ctx, bar) {
      const u = rand();
      if (u < 0.12) ctx.submitOrder({ instrument: bar.instrument, side: rand() < 0.5 ? 'buy' : 'sell', type: 'market', quantity: 0.5 + Math.floor(rand() * 4) * 0.25 });
      else if (u < 0.2 && ctx.openOrderCount(bar.instrument) === 0) {
        const buy = rand() < 0.5;
        ctx.submitOrder({ instrument: bar.instrument, side: buy ? 'buy' : 'sell', type: 'limit', price: Math.round(bar.close * (buy ? 0.99 : 1.01) * 100) / 100, quantity: 0.5 });
      } else if (u < 0.24 && ctx.position(bar.instrument) !== 0) {
        const q = ctx.position(bar.instrument);
        ctx.submitOrder({ instrument: bar.instrument, side: q > 0 ? 'sell' : 'buy', type: 'market', quantity: Math.abs(q), reduceOnly: true });
      }
    },
  };
}

/** Three instruments on one 1h grid: B starts 30 bars late (NaN, not present), C misses every 7th bar. */
function gappyFrame(bars: number): BarFrame {
  const f = makeFrame({ timeframe: '1h', start: '2024-03-01T00:00:00Z', series: [randomWalkBars(bars, 1), randomWalkBars(bars, 2), randomWalkBars(bars, 3)], symbols: ['AUSDT', 'BUSDT', 'CUSDT'] });
  const absent = (i: number, t: number) => {
    f.present[i]![t] = 0;
    for (const col of [f.open, f.high, f.low, f.close]) col[i]![t] = NaN;
    f.volume[i]![t] = 0;
  };
  for (let t = 0; t < 30; t++) absent(1, t);
  for (let t = 3; t < bars; t += 7) absent(2, t);
  return { ...f, missing: { policy: 'nan', filled: [0, 30, Math.floor((bars - 4) / 7) + 1] } };
}

function spec(frame: BarFrame, overrides: Partial<BacktestSpec> = {}): BacktestSpec {
  const instruments = ['AUSDT', 'BUSDT', 'CUSDT'].map((symbol) => testInstrument({ symbol }));
  return backtestSpec(frame, instruments, { funding: new TableFundingModel([null, null, null].map(() => ({ ts: new Float64Array(0), rate: new Float64Array(0) })), { kind: 'constant', rate: 0.0003 }), ...overrides });
}

function expectRows(result: ReturnType<typeof runBacktest>, rows: readonly Row[], from = 0): void {
  const n = result.bars.length;
  expect(rows.length - from).toBe(result.equity.value.length);
  rows.slice(from).forEach((row, t) => {
    expect(result.equity.value[t], `equity at ${t}`).toBe(row.equity);
    for (let i = 0; i < n; i++) {
      expect(result.bars[i]!.position[t], `position ${i} at ${t}`).toBe(row.positions[i]);
      expect(Object.is(result.bars[i]!.pnl![t], row.pnl[i]), `pnl ${i} at ${t}: ${result.bars[i]!.pnl![t]} vs ${row.pnl[i]}`).toBe(true);
    }
  });
}

const SEED = 8; // a seed that holds C into its missing bar 171
describe('BarRecords (per-bar records written at the end)', () => {
  const frame = gappyFrame(400);

  it('equals the per-close expressions at every bar: gaps, NaN marks before a first bar, fills, funding', () => {
    const ref = reference();
    const result = runBacktest(spec(frame), randomTrader(5), ref.control);
    expect(result.fills.length).toBeGreaterThan(60);
    expect(result.funding.length).toBeGreaterThan(50);
    expect(result.bars[1]!.position.slice(0, 30).every((q) => q === 0)).toBe(true);
    expect(new Set(result.bars.map((b) => b.position.some((q) => q !== 0))).has(false)).toBe(false);
    expect(result.equity.ts[5]).toBe(frame.ts[5]! + 3_600_000);
    expectRows(result, ref.rows);
  });

  it('cuts warm-up bars off as before (records of the window only)', () => {
    const ref = reference();
    const result = runBacktest(spec(frame, { warmupBars: 50 }), randomTrader(6), ref.control);
    expect(result.equity.value.length).toBe(350);
    expectRows(result, ref.rows, 50);
  });

  it('a run stopped early and resumed records its own bars only, each equal to the reference (resumed at a gap of C)', () => {
    const first = reference({ stopBefore: 171 });
    const stopped = runBacktest(spec(frame), randomTrader(SEED), first.control);
    expect(stopped.state?.nextBar).toBe(171);
    expect(frame.present[2]![171]).toBe(0);
    expect(stopped.bars[2]!.position[170]).not.toBe(0); // C is held into its missing bar: its mark there is the restored one
    const rest = reference({ resume: stopped.state! });
    const resumed = runBacktest(spec(frame), randomTrader(SEED), rest.control);
    expect(stopped.equity.value.length).toBe(400);
    expect(Array.from(stopped.equity.value.subarray(171)).every((v) => v === 0)).toBe(true);
    expect(Array.from(resumed.equity.value.subarray(0, 171)).every((v) => v === 0)).toBe(true);
    first.rows.forEach((row, t) => expect(stopped.equity.value[t]).toBe(row.equity));
    rest.rows.forEach((row, k) => {
      const t = 171 + k;
      expect(resumed.equity.value[t]).toBe(row.equity);
      row.positions.forEach((q, i) => expect(resumed.bars[i]!.position[t]).toBe(q));
      row.pnl.forEach((x, i) => expect(Object.is(resumed.bars[i]!.pnl![t], x)).toBe(true));
    });
    expect(rest.rows.length).toBe(229);
  });
});

describe('BarRecords.writeOut on hand-made accounts', () => {
  /** One instrument at t = 0..6; a close where `present` is 0 holds 99, which no record may use. */
  function frame(present: readonly number[], closes: readonly number[]) {
    return { ts: Float64Array.from(present, (_, t) => t), present: [Uint8Array.from(present)], close: [Float64Array.from(closes, (c, t) => (present[t] === 0 ? 99 : c))] };
  }
  const fresh = (T: number) => ({ equity: new Float64Array(T), positions: [new Float64Array(T)], pnl: [new Float64Array(T)] });

  it('carries the mark through a flat account: a position that starts at a close without a bar is valued at the last close before it', () => {
    // Long 1 from 10 (t = 0), sold at 12 (t = 2, +2 realized): flat over t = 2..3, whose only bar is t = 2; bought 1 at
    // 13 at t = 4, where the instrument has no bar (BarRecords takes any account as it comes).
    const f = frame([1, 1, 1, 0, 0, 1, 1], [10, 11, 12, 0, 0, 15, 16]);
    const p = new Portfolio([testInstrument()], 1_000);
    const records = new BarRecords(p);
    for (let t = 0; t < 7; t++) {
      if (f.present[0]![t] !== 0) p.mark[0] = f.close[0]![t]!;
      if (t === 0) p.applyFill(booked(0, 1, 10, 0));
      if (t === 2) p.applyFill(booked(0, -1, 12, 0));
      if (t === 4) p.applyFill(booked(0, 1, 13, 0));
      records.close(t);
    }
    const out = fresh(7);
    records.writeOut(f, out);
    expect(Array.from(out.positions[0]!)).toEqual([1, 1, 0, 0, 1, 1, 1]);
    // Valued at 12 (the close of t = 2, the flat account's last bar) at t = 4, then at 15 and 16.
    expect(Array.from(out.pnl[0]!)).toEqual([0, 1, 2, 2, 1, 4, 5]);
    expect(Array.from(out.equity)).toEqual([1_000, 1_001, 1_002, 1_002, 1_001, 1_004, 1_005]);
    expect(Array.from(records.closeTimes(f.ts, 1, 7))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('values a position never marked at its entry (equity: the cash), whichever held instrument comes first', () => {
    // Three instruments: A flat, B held but never marked (no bar at all: NaN), C held and marked. Equity is the
    // cash plus C's unrealized PnL only, as Portfolio.equityInto gives it; then B alone is held (equity: the cash).
    const f = { ts: Float64Array.from([0, 1, 2, 3]), present: [Uint8Array.from([1, 1, 1, 1]), new Uint8Array(4), Uint8Array.from([1, 1, 1, 1])], close: [Float64Array.from([5, 5, 5, 5]), Float64Array.from([99, 99, 99, 99]), Float64Array.from([20, 21, 22, 23])] };
    const p = new Portfolio([testInstrument(), testInstrument(), testInstrument()], 1_000);
    const records = new BarRecords(p);
    const equity: number[] = [];
    const e = new Float64Array(1);
    for (let t = 0; t < 4; t++) {
      p.mark[0] = f.close[0]![t]!;
      p.mark[2] = f.close[2]![t]!;
      if (t === 0) {
        p.applyFill(booked(1, 2, 50, 0));
        p.applyFill(booked(2, 1, 20, 0));
      }
      if (t === 2) p.applyFill(booked(2, -1, 22, 0));
      records.close(t);
      p.equityInto(e, 0);
      equity.push(e[0]!);
    }
    const out = { equity: new Float64Array(4).fill(7), positions: [0, 1, 2].map(() => new Float64Array(4).fill(7)), pnl: [0, 1, 2].map(() => new Float64Array(4).fill(7)) };
    records.writeOut(f, out, false);
    expect(Array.from(out.equity)).toEqual(equity);
    expect(equity).toEqual([1_000, 1_001, 1_002, 1_002]);
    expect(Array.from(out.positions[1]!)).toEqual([2, 2, 2, 2]);
  });

  it('gives the close time of the recorded closes only (0 before the first and after the last), in a fresh array', () => {
    const p = new Portfolio([testInstrument()], 1_000);
    const records = new BarRecords(p);
    const ts = Float64Array.from([100, 200, 300, 400, 500, 600]);
    for (let t = 2; t <= 4; t++) records.close(t); // a run resumed at bar 2 and stopped before bar 5
    const first = records.closeTimes(ts, 60, 6);
    expect(Array.from(first)).toEqual([0, 0, 360, 460, 560, 0]);
    expect(records.closeTimes(ts, 60, 6)).not.toBe(first);
    expect(Array.from(new BarRecords(p).closeTimes(ts, 60, 6))).toEqual([0, 0, 0, 0, 0, 0]); // nothing recorded
  });

  it('writes a −0 cash or position as a write of every close would (a fresh array holds +0), and a flat PnL never as −0', () => {
    const f = frame([1, 1, 1, 1, 1, 1], [10, 11, 12, 13, 15, 16]);
    const p = new Portfolio([testInstrument()], -0);
    p.quantity[0] = -0;
    p.realized[0] = -0;
    const records = new BarRecords(p);
    for (let t = 0; t < 6; t++) {
      p.mark[0] = f.close[0]![t]!;
      records.close(t);
    }
    const out = fresh(6);
    records.writeOut(f, out, true);
    expect(Array.from(out.equity).every((x) => Object.is(x, -0))).toBe(true);
    expect(Array.from(out.positions[0]!).every((x) => Object.is(x, -0))).toBe(true);
    expect(Array.from(out.pnl[0]!).every((x) => Object.is(x, 0))).toBe(true);
  });
});

describe('BarRecords.writeOut writes every index, the curve and the per-instrument columns together or apart', () => {
  // The result columns are uninitialised memory (run-backtest's `uninitialised`): every index must be written, the records at the
  // recorded closes and 0 elsewhere. Written over arrays full of a sentinel, the result equals the one over fresh
  // (zeroed) arrays bit for bit (−0 and +0 told apart).
  const T = 8;
  const filled = (value: number) => ({ equity: new Float64Array(T).fill(value), positions: [new Float64Array(T).fill(value), new Float64Array(T).fill(value)], pnl: [new Float64Array(T).fill(value), new Float64Array(T).fill(value)] });
  const bits = (o: ReturnType<typeof filled>) => [o.equity, ...o.positions, ...o.pnl].map((a) => Array.from(a, (x) => (Object.is(x, -0) ? '-0' : String(x))));
  const frame = {
    ts: Float64Array.from({ length: T }, (_, t) => t),
    present: [new Uint8Array(T).fill(1), Uint8Array.from({ length: T }, (_, t) => (t === 3 ? 0 : 1))],
    close: [Float64Array.from({ length: T }, (_, t) => 100 + t), Float64Array.from({ length: T }, (_, t) => 50 - t)],
  };

  /** Records closes `from..until-1` of two instruments: instrument 0 long from close 3, sold at 5; instrument 1 short at 4. */
  function recorded(from: number, until: number, cash = 1_000): BarRecords {
    const p = new Portfolio([testInstrument(), testInstrument({ symbol: 'BBBUSDT' })], cash);
    const records = new BarRecords(p);
    for (let t = from; t < until; t++) {
      for (let i = 0; i < 2; i++) if (frame.present[i]![t] !== 0) p.mark[i] = frame.close[i]![t]!;
      if (t === 3) p.applyFill(booked(0, 1, 103, 0.1));
      if (t === 4) p.applyFill(booked(1, -2, 46, 0.1));
      if (t === 5) p.applyFill(booked(0, -1, 105, 0.1));
      records.close(t);
    }
    return records;
  }

  for (const [name, make] of [
    ['every close recorded', () => recorded(0, T)],
    ['a run resumed at close 2 and stopped before close 6', () => recorded(2, 6)],
    ['no close recorded', () => recorded(0, 0)],
    ['a −0 cash', () => recorded(0, 3, -0)],
  ] as const) {
    it(name, () => {
      const fresh = filled(0);
      make().writeOut(frame, fresh);
      for (const sentinel of [12_345.678, NaN, -0]) {
        const over = filled(sentinel);
        make().writeOut(frame, over);
        expect(bits(over)).toEqual(bits(fresh));
      }
      // The curve at the run's end, the per-instrument columns when first read (run-backtest): the same bits.
      const apart = filled(NaN), records = make();
      records.writeOut(frame, { equity: apart.equity });
      records.writeOut(frame, { positions: apart.positions, pnl: apart.pnl });
      expect(bits(apart)).toEqual(bits(fresh));
      // The exposure count made from the records is the one made over the written position columns, from any close on.
      for (let from = 0; from <= T; from++) {
        const counted = Array.from({ length: T - from }, (_, k) => fresh.positions.some((p) => p[from + k] !== 0)).filter(Boolean).length;
        expect(records.exposedCloses(from)).toBe(counted);
      }
    });
  }
});
