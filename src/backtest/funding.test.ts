import { describe, expect, it } from 'vitest';
import { at, backtestSpec, fundingTable, scriptStrategy, testInstrument } from '../../test/support/engine-scenarios.js';
import { makeFrame } from '../../test/support/frames.js';
import type { Kernel } from '../engine/kernel.js';
import { gridSettlementAfter, TableFundingModel, type FundingFallback, type FundingModel } from './execution-models.js';
import { FundingSchedule } from './funding-settlement.js';
import { runBacktest } from './run-backtest.js';

const X = testInstrument();

// 4h bars from 2023-12-31T16:00Z. Close times: b0 20:00, b1 00:00*, b2 04:00, b3 08:00*, b4 12:00, b5 16:00*, b6 20:00
// (* = funding settlement on the 00/08/16 UTC grid).
const frame = makeFrame({
  timeframe: '4h',
  start: '2023-12-31T16:00:00Z',
  bars: [
    [100, 100, 100, 100, 1000], // b0: order placed at its close
    [100, 102, 99, 101, 1000], //  b1: filled at the open 100; settles 00:00 at close 101
    [101, 103, 100, 102, 1000], // b2: closes 04:00, no settlement
    [102, 105, 101, 104, 1000], // b3: settles 08:00 at close 104
    [104, 106, 103, 105, 1000], // b4: closes 12:00, no settlement
    [105, 111, 104, 110, 1000], // b5: settles 16:00 at close 110; exit order placed at its close
    [110, 111, 109, 110, 1000], // b6: exit filled at the open 110
  ],
});

const FULL_TABLE: [string, number][] = [
  ['2023-12-31T16:00:00Z', 0.0005], // before entry: never paid
  ['2024-01-01T00:00:00Z', 0.0001],
  ['2024-01-01T08:00:00Z', -0.0002],
  ['2024-01-01T16:00:00Z', 0.0003],
  ['2024-01-02T00:00:00Z', 0.0005], // after the data: never reached
];

function run(side: 'buy' | 'sell', rows: [string, number][], fallback: FundingFallback, trade = true) {
  const exit = side === 'buy' ? 'sell' : 'buy';
  const strategy = scriptStrategy(
    trade
      ? {
          0: (ctx) => ctx.submitOrder({ instrument: 0, side, type: 'market', quantity: 2 }),
          5: (ctx) => ctx.submitOrder({ instrument: 0, side: exit, type: 'market', quantity: 2 }),
        }
      : {},
  );
  const funding = new TableFundingModel([fundingTable(rows)], fallback);
  return runBacktest(backtestSpec(frame, [X], { funding }), strategy);
}

const settlements = (r: ReturnType<typeof run>) => r.funding.map((e) => [new Date(e.ts).toISOString(), e.position, e.markPrice, e.rate, e.source]);

describe('funding from a TableFundingModel', () => {
  it('a long pays position × close × rate at 00:00, 08:00 and 16:00 (and receives on a negative rate)', () => {
    const r = run('buy', FULL_TABLE, { kind: 'zero' });
    expect(settlements(r)).toEqual([
      ['2024-01-01T00:00:00.000Z', 2, 101, 0.0001, 'table'],
      ['2024-01-01T08:00:00.000Z', 2, 104, -0.0002, 'table'],
      ['2024-01-01T16:00:00.000Z', 2, 110, 0.0003, 'table'],
    ]);
    // 2 × 101 × 0.0001 = 0.0202; 2 × 104 × (−0.0002) = −0.0416; 2 × 110 × 0.0003 = 0.066
    const payments = r.funding.map((e) => e.payment);
    expect(payments[0]).toBeCloseTo(0.0202, 12);
    expect(payments[1]).toBeCloseTo(-0.0416, 12);
    expect(payments[2]).toBeCloseTo(0.066, 12);
    // total 0.0202 − 0.0416 + 0.066 = 0.0446
    expect(r.fundingPaid).toBeCloseTo(0.0446, 12);
    // equity at the b1 close (00:00) = 10 000 − 0.11 (fee 2 × 100 × 0.00055) + 2 × (101 − 100) − 0.0202 = 10 001.8698
    expect(r.equity.value[1]).toBeCloseTo(10_001.8698, 9);
    // round trip: realised 2 × (110 − 100) = 20; fees 0.11 + 2 × 110 × 0.00055 = 0.11 + 0.121 = 0.231
    // pnl = 20 − 0.231 − 0.0446 = 19.7244; final equity 10 019.7244
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]!.funding).toBeCloseTo(0.0446, 12);
    expect(r.trades[0]!.pnl).toBeCloseTo(19.7244, 10);
    expect(r.equity.value[6]).toBeCloseTo(10_019.7244, 9);
    expect(r.notes).toEqual([]);
  });

  it('a short receives what the long pays', () => {
    const r = run('sell', FULL_TABLE, { kind: 'zero' });
    // payments: −2 × 101 × 0.0001 = −0.0202; −2 × 104 × (−0.0002) = +0.0416; −2 × 110 × 0.0003 = −0.066
    expect(r.funding.map((e) => e.position)).toEqual([-2, -2, -2]);
    expect(r.funding[0]!.payment).toBeCloseTo(-0.0202, 12);
    expect(r.funding[1]!.payment).toBeCloseTo(0.0416, 12);
    expect(r.funding[2]!.payment).toBeCloseTo(-0.066, 12);
    expect(r.fundingPaid).toBeCloseTo(-0.0446, 12);
    // pnl = −20 (realised 2 × (100 − 110)) − 0.231 (fees) + 0.0446 (funding received) = −20.1864
    expect(r.trades[0]!.direction).toBe('short');
    expect(r.trades[0]!.pnl).toBeCloseTo(-20.1864, 10);
    expect(r.equity.value[6]).toBeCloseTo(10_000 - 20.1864, 9);
  });

  it('settles only at closes on the 00/08/16 grid: the 4h bars closing 04:00, 12:00, 20:00 pay nothing', () => {
    const r = run('buy', FULL_TABLE, { kind: 'zero' });
    const hours = r.funding.map((e) => new Date(e.ts).getUTCHours());
    expect(hours).toEqual([0, 8, 16]);
    // the position is open through b2 (closes 04:00) and b4 (closes 12:00), yet nothing is booked there
    expect(r.bars[0]!.position[2]).toBe(2);
    expect(r.bars[0]!.position[4]).toBe(2);
  });

  it('a missing settlement uses the constant fallback, and the notes say how many and when', () => {
    const rows = FULL_TABLE.filter(([t]) => t !== '2024-01-01T08:00:00Z');
    const r = run('buy', rows, { kind: 'constant', rate: 0.0001 });
    expect(r.funding.map((e) => e.source)).toEqual(['table', 'fallback', 'table']);
    // 08:00 at the fallback: 2 × 104 × 0.0001 = 0.0208; total 0.0202 + 0.0208 + 0.066 = 0.107
    expect(r.funding[1]!.rate).toBe(0.0001);
    expect(r.funding[1]!.payment).toBeCloseTo(0.0208, 12);
    expect(r.fundingPaid).toBeCloseTo(0.107, 12);
    expect(r.notes).toEqual([
      'funding fallback for TESTUSDT-LINEAR.TEST: 1 settlements from 2024-01-01T08:00:00.000Z to 2024-01-01T08:00:00.000Z had no funding data; applied a constant rate of 0.0001 per 8h',
    ]);
  });

  it('a zero fallback books zero payments and says so', () => {
    const rows = FULL_TABLE.filter(([t]) => t !== '2024-01-01T00:00:00Z' && t !== '2024-01-01T16:00:00Z');
    const r = run('buy', rows, { kind: 'zero' });
    expect(r.funding.map((e) => [e.source, e.payment])).toEqual([
      ['fallback', 0],
      ['table', 2 * 104 * -0.0002], // −0.0416
      ['fallback', 0],
    ]);
    expect(r.fundingPaid).toBeCloseTo(-0.0416, 12);
    expect(r.notes).toEqual([
      'funding fallback for TESTUSDT-LINEAR.TEST: 2 settlements from 2024-01-01T00:00:00.000Z to 2024-01-01T16:00:00.000Z had no funding data; applied a zero rate',
    ]);
  });

  it('charges nothing while flat, and counts no fallback use then', () => {
    const r = run('buy', [], { kind: 'constant', rate: 0.0001 }, false);
    expect(r.funding).toEqual([]);
    expect(r.fundingPaid).toBe(0);
    expect(r.notes).toEqual([]);
    expect(Array.from(r.equity.value)).toEqual(new Array(7).fill(10_000));
  });

  it('a spec run twice with the same model instance books the same funding and notes', () => {
    // The model keeps a lookup cursor and fallback counters; runners reset them at the start of each run.
    const rows = FULL_TABLE.filter(([t]) => t !== '2024-01-01T08:00:00Z');
    const strategy = () => scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 }) });
    const spec = backtestSpec(frame, [X], { funding: new TableFundingModel([fundingTable(rows)], { kind: 'constant', rate: 0.0001 }) });
    const first = runBacktest(spec, strategy());
    const second = runBacktest(spec, strategy());
    expect(second.funding).toEqual(first.funding);
    expect(first.funding.map((e) => e.source)).toEqual(['table', 'fallback', 'table']);
    expect(second.notes).toEqual(first.notes);
    expect(second.notes[0]).toMatch(/: 1 settlements from 2024-01-01T08:00:00.000Z to 2024-01-01T08:00:00.000Z /);
  });

  it('instruments without a table (null, e.g. spot) pay nothing', () => {
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 }) });
    const r = runBacktest(backtestSpec(frame, [X], { funding: new TableFundingModel([null], { kind: 'constant', rate: 0.0001 }) }), strategy);
    expect(r.funding).toEqual([]);
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0]!.ts).toBe(at('2023-12-31T20:00:00Z'));
  });
});

/** One schedule from `after`, settled through `tsClose`: returns its next settlement. */
function settleFunding(kernel: Kernel, funding: FundingModel, after: number, tsClose: number): number {
  const schedule = new FundingSchedule(funding, kernel.portfolio.quantity.length, after);
  schedule.settle(kernel, tsClose);
  return schedule.next;
}

describe('settleFunding', () => {
  /** A funding model that records what it is asked and always answers `rate` from the table. */
  function recording(rate: number) {
    const asked: [number, string][] = [];
    const model: FundingModel = {
      rate(i, ts) {
        asked.push([i, new Date(ts).toISOString()]);
        return { rate, source: 'table' };
      },
    };
    return { model, asked };
  }

  it('3h bars: a settlement inside a bar (08:00, 16:00) is settled at its close, at the close and on the position then', () => {
    // 3h bars from 00:00: closes 03, 06, 09, 12, 15, 18, 21, 00:00 (next day), 03. The 08:00 settlement is settled at
    // the 09:00 close, 16:00 at the 18:00 close, 00:00 at its own close.
    const bars: [number, number, number, number, number][] = [
      [100, 100, 100, 100, 1000],
      ...Array.from({ length: 8 }, (_, k): [number, number, number, number, number] => [100 + k, 100 + k + 1, 100 + k, 100 + k + 1, 1000]),
    ];
    const threeHour = makeFrame({ timeframe: '3h', start: '2024-01-01T00:00:00Z', bars });
    const { model, asked } = recording(0.0001);
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 }) });
    const r = runBacktest(backtestSpec(threeHour, [X], { funding: model }), strategy);
    // bought at the b1 open (03:00, price 100): position 2 from then on
    expect(r.bars[0]!.position[1]).toBe(2);
    // b2 closes 09:00 at 102, b5 18:00 at 105, b7 00:00 at 107 (bar b ≥ 1 closes at 100 + b); 2 × close × 0.0001 each
    expect(settlements(r)).toEqual([
      ['2024-01-01T08:00:00.000Z', 2, 102, 0.0001, 'table'],
      ['2024-01-01T16:00:00.000Z', 2, 105, 0.0001, 'table'],
      ['2024-01-02T00:00:00.000Z', 2, 107, 0.0001, 'table'],
    ]);
    expect(r.funding.map((e) => e.payment)).toEqual([2 * 102 * 0.0001, 2 * 105 * 0.0001, 2 * 107 * 0.0001]);
    expect(asked).toEqual([
      [0, '2024-01-01T08:00:00.000Z'],
      [0, '2024-01-01T16:00:00.000Z'],
      [0, '2024-01-02T00:00:00.000Z'],
    ]);
    // The equity at each close has paid what was settled up to it: b2's close is lower by the 08:00 payment.
    const noFunding = runBacktest(backtestSpec(threeHour, [X], { funding: { rate: () => undefined } }), scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 }) }));
    expect(noFunding.equity.value[2]! - r.equity.value[2]!).toBeCloseTo(2 * 102 * 0.0001, 10);
    expect(noFunding.equity.value[1]! - r.equity.value[1]!).toBe(0);
  });

  it('daily bars pay all three settlements of a day, each at its own rate (none is skipped)', () => {
    const daily = makeFrame({ timeframe: '1d', start: '2024-01-01T00:00:00Z', bars: [[100, 100, 100, 100, 1000], [100, 101, 99, 100, 1000], [100, 111, 99, 110, 1000]] });
    const rows: [string, number][] = [
      ['2024-01-02T08:00:00Z', 0.0001],
      ['2024-01-02T16:00:00Z', 0.0002],
      ['2024-01-03T00:00:00Z', 0.0003],
      ['2024-01-03T08:00:00Z', 0.0004],
      ['2024-01-03T16:00:00Z', 0.0005],
      ['2024-01-04T00:00:00Z', 0.0006],
    ];
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) });
    const r = runBacktest(backtestSpec(daily, [X], { funding: new TableFundingModel([fundingTable(rows)], { kind: 'zero' }) }), strategy);
    // Bought at the b1 open (2024-01-02T00:00): the 01-02 00:00 settlement is the b0 close (flat then). Every row is
    // settled: the first three at the b1 close (01-03 00:00, mark 100), the last three at the b2 close (mark 110).
    expect(settlements(r)).toEqual(rows.map(([ts, rate], k) => [new Date(ts).toISOString(), 1, k < 3 ? 100 : 110, rate, 'table']));
    expect(r.fundingPaid).toBeCloseTo(100 * 0.0006 + 110 * 0.0015, 12);
  });

  it("a contract that settles every 4 h for a while pays at each of its table's times; a grid time the table lacks gets the fallback", () => {
    // 4h bars from 00:00, long 1 from the b1 open (04:00). The table switches to 4-hourly settlements from 08:00 to
    // 16:00 and lacks the next day's 00:00.
    const frame = makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars: Array.from({ length: 7 }, (): [number, number, number, number, number] => [100, 100, 100, 100, 1000]) });
    const table = fundingTable([
      ['2024-01-01T08:00:00Z', 0.0001],
      ['2024-01-01T12:00:00Z', 0.0002],
      ['2024-01-01T16:00:00Z', 0.0003],
      ['2024-01-01T20:00:00Z', 0.0004],
    ]);
    const model = new TableFundingModel([table], { kind: 'constant', rate: 0.001 });
    expect([at('2024-01-01T00:00:00Z'), at('2024-01-01T08:00:00Z'), at('2024-01-01T20:00:00Z')].map((t) => new Date(model.settlementAfter(0, t)).toISOString())).toEqual([
      '2024-01-01T08:00:00.000Z',
      '2024-01-01T12:00:00.000Z',
      '2024-01-02T00:00:00.000Z',
    ]);
    const r = runBacktest(backtestSpec(frame, [X], { funding: model }), scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) }));
    expect(settlements(r)).toEqual([
      ['2024-01-01T08:00:00.000Z', 1, 100, 0.0001, 'table'],
      ['2024-01-01T12:00:00.000Z', 1, 100, 0.0002, 'table'],
      ['2024-01-01T16:00:00.000Z', 1, 100, 0.0003, 'table'],
      ['2024-01-01T20:00:00.000Z', 1, 100, 0.0004, 'table'],
      ['2024-01-02T00:00:00.000Z', 1, 100, 0.001, 'fallback'],
    ]);
    expect(model.fallbackUsed[0]!.count).toBe(1);
  });

  it('a bar run asks no settlement of a model that charges none of its instruments, and every settlement of one that charges any', () => {
    // 4h bars from 00:00, a long from the b1 open: closes at 08:00, 16:00 and 00:00 are settlements.
    const frame = makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars: Array.from({ length: 7 }, (): [number, number, number, number, number] => [100, 100, 100, 100, 1000]) });
    const strategy = () => scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) });
    const none = recording(0.0001);
    const r = runBacktest(backtestSpec(frame, [X], { funding: { ...none.model, charges: () => false } }), strategy());
    expect(none.asked).toEqual([]);
    expect(r.funding).toEqual([]);
    const table = new TableFundingModel([null], { kind: 'constant', rate: 0.0001 });
    expect(table.charges(0)).toBe(false);
    const some = recording(0.0001);
    const charged = runBacktest(backtestSpec(frame, [X], { funding: { ...some.model, charges: () => true } }), strategy());
    expect(some.asked.map(([, ts]) => ts)).toEqual(['2024-01-01T08:00:00.000Z', '2024-01-01T16:00:00.000Z', '2024-01-02T00:00:00.000Z']);
    expect(settlements(charged)).toHaveLength(3);
  });

  // A kernel stand-in with what settleFunding reads (positions, marks) and records what it books.
  function kernelWith(quantity: number[], mark: number[]) {
    const booked: [number, number, number, number, string][] = [];
    const kernel = {
      portfolio: { quantity: Float64Array.from(quantity), mark: Float64Array.from(mark) },
      onFunding: (i: number, ts: number, rate: number, markPrice: number, source: string) => booked.push([i, ts, rate, markPrice, source]),
    } as unknown as Kernel;
    return { kernel, booked };
  }

  it('at a grid time: asks the model for every open position (flat ones skipped) and books it at the mark', () => {
    const { kernel, booked } = kernelWith([2, 0, -1], [100, 50, 20]);
    const { model, asked } = recording(0.0003);
    const t = at('2024-01-01T16:00:00Z');
    expect(settleFunding(kernel, model, t - 4 * 3_600_000, t)).toBe(at('2024-01-02T00:00:00Z'));
    expect(asked).toEqual([
      [0, '2024-01-01T16:00:00.000Z'],
      [2, '2024-01-01T16:00:00.000Z'],
    ]);
    expect(booked).toEqual([
      [0, t, 0.0003, 100, 'table'],
      [2, t, 0.0003, 20, 'table'],
    ]);
  });

  it('no settlement in (after, close]: books nothing and returns the next grid time; `after` itself is never settled again', () => {
    const { kernel, booked } = kernelWith([2], [100]);
    const { model, asked } = recording(0.0003);
    expect(settleFunding(kernel, model, at('2024-01-01T08:00:00Z'), at('2024-01-01T09:00:00Z'))).toBe(at('2024-01-01T16:00:00Z'));
    expect(settleFunding(kernel, model, at('2024-01-01T16:00:00Z'), at('2024-01-01T23:59:59Z'))).toBe(at('2024-01-02T00:00:00Z'));
    expect(asked).toEqual([]);
    expect(booked).toEqual([]);
  });

  it('several settlements in one call: in time order, instruments in index order at each; a model without them (Infinity) is never asked', () => {
    const { kernel, booked } = kernelWith([1, -1, 3], [10, 20, 30]);
    const hourly = (i: number, after: number) => (i === 2 ? Infinity : i === 1 ? (Math.floor(after / 3_600_000) + 1) * 3_600_000 : (Math.floor(after / 28_800_000) + 1) * 28_800_000);
    const asked: [number, string][] = [];
    const model: FundingModel = {
      settlementAfter: hourly,
      charges: (i) => i !== 2,
      rate: (i, ts) => (asked.push([i, new Date(ts).toISOString()]), { rate: 0.0001, source: 'table' }),
    };
    expect(settleFunding(kernel, model, at('2024-01-01T06:00:00Z'), at('2024-01-01T09:00:00Z'))).toBe(at('2024-01-01T10:00:00Z'));
    expect(asked).toEqual([
      [1, '2024-01-01T07:00:00.000Z'],
      [0, '2024-01-01T08:00:00.000Z'],
      [1, '2024-01-01T08:00:00.000Z'],
      [1, '2024-01-01T09:00:00.000Z'],
    ]);
    expect(booked.map(([i, ts, , mark]) => [i, new Date(ts).toISOString(), mark])).toEqual([
      [1, '2024-01-01T07:00:00.000Z', 20],
      [0, '2024-01-01T08:00:00.000Z', 10],
      [1, '2024-01-01T08:00:00.000Z', 20],
      [1, '2024-01-01T09:00:00.000Z', 20],
    ]);
  });

  it('replan: a model whose settlements changed is followed from each instrument\'s last settled one (a settlement found late is settled at the next close; none is settled twice)', () => {
    const { kernel, booked } = kernelWith([1, 2], [10, 20]);
    // Instrument 0 settles every 8 h, then every 4 h from 00:00 on (learnt only at the 08:00 close); instrument 1 every 8 h.
    let shorter = false;
    const model: FundingModel = {
      settlementAfter: (i, after) => gridSettlementAfter(after, i === 0 && shorter ? 4 * 3_600_000 : 8 * 3_600_000),
      rate: () => ({ rate: 0.0001, source: 'table' }),
    };
    const schedule = new FundingSchedule(model, 2, at('2023-12-31T23:00:00Z'));
    schedule.settle(kernel, at('2024-01-01T00:00:00Z'));
    expect(schedule.next).toBe(at('2024-01-01T08:00:00Z'));
    schedule.replan(); // nothing changed: the same plan
    expect(schedule.next).toBe(at('2024-01-01T08:00:00Z'));
    shorter = true;
    schedule.replan();
    expect(schedule.next).toBe(at('2024-01-01T04:00:00Z'));
    schedule.settle(kernel, at('2024-01-01T08:00:00Z'));
    expect(schedule.next).toBe(at('2024-01-01T12:00:00Z'));
    schedule.replan();
    expect(schedule.next).toBe(at('2024-01-01T12:00:00Z'));
    expect(booked.map(([i, ts]) => [i, new Date(ts).toISOString()])).toEqual([
      [0, '2024-01-01T00:00:00.000Z'],
      [1, '2024-01-01T00:00:00.000Z'],
      [0, '2024-01-01T04:00:00.000Z'],
      [0, '2024-01-01T08:00:00.000Z'],
      [1, '2024-01-01T08:00:00.000Z'],
    ]);
  });

  it('a schedule resumed from each instrument\'s last settled settlement settles those between it and its start at the first close (a restarted live run); lastSettled is what it saves', () => {
    const { kernel, booked } = kernelWith([1, 2], [10, 20]);
    // Instrument 0 settles every 4 h: its previous life settled 00:00 and saved 05:00 without knowing of 04:00.
    const model: FundingModel = {
      settlementAfter: (i, after) => gridSettlementAfter(after, i === 0 ? 4 * 3_600_000 : 8 * 3_600_000),
      rate: () => ({ rate: 0.0001, source: 'table' }),
    };
    const start = at('2024-01-01T05:00:00Z');
    const resumed = new FundingSchedule(model, 2, start, [at('2024-01-01T00:00:00Z'), at('2024-01-01T00:00:00Z')]);
    expect(resumed.next).toBe(at('2024-01-01T04:00:00Z'));
    expect(resumed.settledThrough).toBe(start);
    resumed.settle(kernel, at('2024-01-01T06:00:00Z'));
    expect(booked.map(([i, ts]) => [i, new Date(ts).toISOString()])).toEqual([[0, '2024-01-01T04:00:00.000Z']]);
    expect(resumed.lastSettled()).toEqual([at('2024-01-01T04:00:00Z'), at('2024-01-01T00:00:00Z')]);
    // Started afresh at 05:00 (no saved settlements), 04:00 is not the schedule's: the first is 08:00.
    const fresh = new FundingSchedule(model, 2, start);
    expect(fresh.next).toBe(at('2024-01-01T08:00:00Z'));
    expect(fresh.lastSettled()).toEqual([start, start]);
  });

  it('an instrument the model has no funding for (undefined) is not booked', () => {
    const { kernel, booked } = kernelWith([1, 1], [100, 100]);
    const model: FundingModel = { rate: (i) => (i === 0 ? undefined : { rate: 0.0001, source: 'fallback' }) };
    settleFunding(kernel, model, at('2024-01-01T04:00:00Z'), at('2024-01-01T08:00:00Z'));
    expect(booked).toEqual([[1, at('2024-01-01T08:00:00Z'), 0.0001, 100, 'fallback']]);
  });
});
