import { describe, expect, it } from 'vitest';
import { at, fundingTable, testInstrument } from '../../test/support/engine-scenarios.js';
import type { Strategy } from '../engine/strategy.js';
import type { BacktestResult } from './backtest-result.js';
import { FixedBpsSlippage, TableFundingModel, VolumeParticipationFillModel, VolumeParticipationSlippage, type FundingModel } from './execution-models.js';
import { runTickBacktest, ticksFromBars, type TickBacktestSpec, type TickColumns } from './run-tick-backtest.js';

// Instruments: lot 0.001, min notional 5, maker 0.0002, taker 0.00055 (test/support/engine-scenarios.ts).
const X = testInstrument();
const Y = testInstrument({ symbol: 'OTHERUSDT' });
const iso = (t: number) => new Date(t).toISOString();

/** Ticks from `[ISO time, price, quantity, side]` rows. */
function ticks(rows: readonly (readonly [string, number, number, number])[]): TickColumns {
  return {
    ts: Float64Array.from(rows, (r) => at(r[0])),
    price: Float64Array.from(rows, (r) => r[1]),
    quantity: Float64Array.from(rows, (r) => r[2]),
    side: Float64Array.from(rows, (r) => r[3]),
  };
}

function tickSpec(instruments: TickBacktestSpec['instruments'], data: readonly TickColumns[], overrides: Partial<TickBacktestSpec> = {}): TickBacktestSpec {
  return {
    name: 'tick',
    instruments,
    ticks: data,
    initialCash: 10_000,
    leverage: 10,
    slippage: new FixedBpsSlippage(0),
    funding: new TableFundingModel(instruments.map(() => null), { kind: 'zero' }),
    sampleEveryMs: 60_000,
    periodsPerYear: 525_600,
    dataSources: [],
    seed: 0,
    config: {},
    ...overrides,
  };
}

describe('runTickBacktest', () => {
  // X: 07:58:30 100, 07:59:10 101, 08:00:00 102 (exactly on a sample boundary and the 08:00 funding time).
  // Y: 07:58:30 50 (same time as X's first tick), 08:00:50 50.2, 08:01:40 51 (the last tick of the run).
  const data = [
    ticks([
      ['2024-01-01T07:58:30Z', 100, 3, 1],
      ['2024-01-01T07:59:10Z', 101, 4, 1],
      ['2024-01-01T08:00:00Z', 102, 5, -1],
    ]),
    ticks([
      ['2024-01-01T07:58:30Z', 50, 1, -1],
      ['2024-01-01T08:00:50Z', 50.2, 2, 1],
      ['2024-01-01T08:01:40Z', 51, 1, 1],
    ]),
  ];
  // Run from inside each test (a few ms): a throw is then a failing test, not an error while collecting the file.
  function scenario(): { result: BacktestResult; seen: unknown[][] } {
    const seen: unknown[][] = [];
    // At X's first tick: a market buy of 2 X and a timer at 07:59:00.
    const strategy: Strategy = {
      name: 'test',
      onTick(ctx, t) {
        seen.push([t.instrument, iso(t.tsEvent), t.price, t.quantity, t.side, iso(ctx.now()), ctx.position(0), ctx.markPrice(t.instrument)]);
        if (t.instrument === 0 && t.tsEvent === at('2024-01-01T07:58:30Z')) {
          ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 });
          ctx.setTimer('check', at('2024-01-01T07:59:00Z'));
        }
      },
      onTimer(ctx, name) {
        seen.push(['timer', name, iso(ctx.now())]);
      },
    };
    // Y has an (empty) table with a constant fallback: it is flat at 08:00, so it is neither charged nor counted.
    const funding = new TableFundingModel([fundingTable([['2024-01-01T08:00:00Z', 0.0001]]), fundingTable([])], { kind: 'constant', rate: 0.001 });
    const result = runTickBacktest(tickSpec([X, Y], data, { funding }), strategy);
    return { result, seen };
  }

  it('delivers the ticks of all instruments merged by time (ties: instrument order), with the clock at the tick, and fires due timers first', () => {
    expect(scenario().seen).toEqual([
      [0, '2024-01-01T07:58:30.000Z', 100, 3, 1, '2024-01-01T07:58:30.000Z', 0, 100],
      [1, '2024-01-01T07:58:30.000Z', 50, 1, -1, '2024-01-01T07:58:30.000Z', 0, 50],
      ['timer', 'check', '2024-01-01T07:59:10.000Z'], // the first tick at or after 07:59:00
      [0, '2024-01-01T07:59:10.000Z', 101, 4, 1, '2024-01-01T07:59:10.000Z', 2, 101], // filled before the tick is delivered
      [0, '2024-01-01T08:00:00.000Z', 102, 5, -1, '2024-01-01T08:00:00.000Z', 2, 102],
      [1, '2024-01-01T08:00:50.000Z', 50.2, 2, 1, '2024-01-01T08:00:50.000Z', 2, 50.2],
      [1, '2024-01-01T08:01:40.000Z', 51, 1, 1, '2024-01-01T08:01:40.000Z', 2, 51],
    ]);
  });

  it('fills a market order at the next tick of its instrument (taker fee), and runs the venue only on ticks where something can happen', () => {
    const { result } = scenario();
    // 2 × 101 = 202 notional; fee 202 × 0.00055 = 0.1111
    expect(result.fills).toEqual([
      { ts: at('2024-01-01T07:59:10Z'), instrument: 'TESTUSDT-LINEAR.TEST', clientOrderId: result.fills[0]!.clientOrderId, side: 'buy', quantity: 2, price: 101, fee: expect.closeTo(0.1111, 12) as number, liquidity: 'taker' },
    ]);
    expect(result.feesPaid).toBeCloseTo(0.1111, 12);
    // X at 07:59:10 (the working order) and 08:00:00 (the position); Y is flat with no order: never.
    expect(result.venuePriceEvents).toBe(2);
  });

  it('settles funding at the first tick at or after the 00/08/16 grid time, at the previous mark, flat instruments untouched', () => {
    const { result } = scenario();
    // 2 × 101 × 0.0001 = 0.0202, booked before the 08:00:00 tick marks X at 102
    expect(result.funding).toEqual([
      { ts: at('2024-01-01T08:00:00Z'), instrument: 'TESTUSDT-LINEAR.TEST', rate: 0.0001, markPrice: 101, position: 2, payment: expect.closeTo(0.0202, 12) as number, source: 'table' },
    ]);
    expect(result.notes).toEqual([]); // no fallback used (Y was flat)
  });

  it('samples equity on the sampleEveryMs grid, each value as of the last tick before the boundary, through the grid point after the last tick', () => {
    const { result } = scenario();
    expect(Array.from(result.equity.ts, iso)).toEqual(['2024-01-01T07:59:00.000Z', '2024-01-01T08:00:00.000Z', '2024-01-01T08:01:00.000Z', '2024-01-01T08:02:00.000Z']);
    // 07:59 before any fill: 10 000; 08:00 after the fill, marked at 101: 10 000 − 0.1111;
    // 08:01 and 08:02 marked at 102 after funding: 10 000 − 0.1111 + 2 × (102 − 101) − 0.0202 = 10 001.8687
    expect(result.equity.value[0]).toBe(10_000);
    expect(result.equity.value[1]).toBeCloseTo(9_999.8889, 9);
    expect(result.equity.value[2]).toBeCloseTo(10_001.8687, 9);
    expect(result.equity.value[3]).toBeCloseTo(10_001.8687, 9);
  });

  it('reports timeframe "tick" and no per-bar data', () => {
    const { result } = scenario();
    expect(result.timeframe).toBe('tick');
    expect(result.instruments).toEqual(['TESTUSDT-LINEAR.TEST', 'OTHERUSDT-LINEAR.TEST']);
    expect(result.bars.map((b) => [b.ts.length, b.position.length])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('settles every grid time a gap between ticks crosses, at the mark before the gap; an instrument without funding pays nothing', () => {
    const asked: [number, string][] = [];
    const model: FundingModel = {
      rate(i, ts) {
        asked.push([i, iso(ts)]);
        return i === 0 ? { rate: 0.0002, source: 'fallback' } : undefined;
      },
    };
    const both: Strategy = {
      name: 'test',
      onTick(ctx, t) {
        if (t.tsEvent === at('2024-01-01T06:00:00Z')) ctx.submitOrder({ instrument: t.instrument, side: 'sell', type: 'market', quantity: 1 });
      },
    };
    const r = runTickBacktest(
      tickSpec(
        [X, Y],
        [
          ticks([
            ['2024-01-01T06:00:00Z', 100, 1, 1],
            ['2024-01-01T06:30:00Z', 90, 1, -1],
            ['2024-01-01T17:00:00Z', 95, 1, 1],
          ]),
          ticks([
            ['2024-01-01T06:00:00Z', 20, 1, 1],
            ['2024-01-01T06:40:00Z', 21, 1, 1],
          ]),
        ],
        { funding: model, sampleEveryMs: 8 * 3_600_000 },
      ),
      both,
    );
    expect(r.fills.map((f) => [f.instrument, iso(f.ts), f.price])).toEqual([
      ['TESTUSDT-LINEAR.TEST', '2024-01-01T06:30:00.000Z', 90],
      ['OTHERUSDT-LINEAR.TEST', '2024-01-01T06:40:00.000Z', 21],
    ]);
    // short 1 X marked at 90 receives 1 × 90 × 0.0002 = 0.018 at 08:00 and 16:00, both booked at the 17:00 tick
    expect(r.funding.map((f) => [iso(f.ts), f.markPrice, f.position, f.payment])).toEqual([
      ['2024-01-01T08:00:00.000Z', 90, -1, expect.closeTo(-0.018, 12)],
      ['2024-01-01T16:00:00.000Z', 90, -1, expect.closeTo(-0.018, 12)],
    ]);
    expect(asked).toEqual([
      [0, '2024-01-01T08:00:00.000Z'],
      [1, '2024-01-01T08:00:00.000Z'],
      [0, '2024-01-01T16:00:00.000Z'],
      [1, '2024-01-01T16:00:00.000Z'],
    ]);
    // samples at 08:00 and 16:00 (taken at the 17:00 tick, before the settlements) and 00:00 (after the last tick)
    expect(Array.from(r.equity.ts, iso)).toEqual(['2024-01-01T08:00:00.000Z', '2024-01-01T16:00:00.000Z', '2024-01-02T00:00:00.000Z']);
  });

  it('uses each tick as a liquidity period: the fill model caps a fill at its share of the tick quantity, slippage reads the tick quantity', () => {
    const r = runTickBacktest(
      tickSpec(
        [X],
        [
          ticks([
            ['2024-01-01T07:58:30Z', 100, 3, 1],
            ['2024-01-01T07:59:10Z', 100, 4, 1],
            ['2024-01-01T08:00:00Z', 100, 5, -1],
          ]),
        ],
        { fill: new VolumeParticipationFillModel(0.5), slippage: new VolumeParticipationSlippage(0, 100, 1) },
      ),
      {
        name: 'test',
        onTick(ctx, t) {
          if (t.tsEvent === at('2024-01-01T07:58:30Z')) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 3 });
        },
      },
    );
    // 07:59:10: 0.5 × 4 = 2 available; slippage 100 bps × (3 left / 4) = 75 bps → 100.75
    // 08:00:00: the last 1 (0.5 × 5 = 2.5 available); slippage 100 bps × (1 / 5) = 20 bps → 100.2
    expect(r.fills.map((f) => [iso(f.ts), f.quantity, f.price])).toEqual([
      ['2024-01-01T07:59:10.000Z', 2, expect.closeTo(100.75, 10)],
      ['2024-01-01T08:00:00.000Z', 1, expect.closeTo(100.2, 10)],
    ]);
  });

  it('keeps the spec notes and every tier annotation at its tick time; the strategy gets no extra history columns', () => {
    const columns: string[][] = [];
    const strategy: Strategy = {
      name: 'test',
      onTick(ctx, t) {
        columns.push(Object.keys(ctx.history(t.instrument).columns));
        ctx.annotateTier?.(t.instrument, t.price > 100 ? 'HIGH' : 'LOW', 'price');
      },
    };
    const data = [ticks([['2024-01-01T00:00:10Z', 100, 1, 1], ['2024-01-01T00:00:20Z', 101, 1, 1]])];
    const r = runTickBacktest(tickSpec([X], data, { notes: ['from the spec'] }), strategy);
    expect(r.notes).toEqual(['from the spec']);
    expect(r.annotations).toEqual({
      tiers: [
        { instrument: X.id, ts: at('2024-01-01T00:00:10Z'), tier: 'LOW', reason: 'price' },
        { instrument: X.id, ts: at('2024-01-01T00:00:20Z'), tier: 'HIGH', reason: 'price' },
      ],
    });
    expect(columns).toEqual([[], []]);
  });

  it('an instrument without ticks does not move the sampling grid; a run without any tick samples nothing', () => {
    const one = runTickBacktest(tickSpec([X, Y], [ticks([]), ticks([['2024-01-01T00:00:30Z', 100, 1, 1]])]), { name: 'idle' });
    expect(Array.from(one.equity.ts, iso)).toEqual(['2024-01-01T00:01:00.000Z']);
    expect(Array.from(one.equity.value)).toEqual([10_000]);
    const none = runTickBacktest(tickSpec([X], [ticks([])]), { name: 'idle' });
    expect(none.equity.ts).toHaveLength(0);
    expect(none.equity.value).toHaveLength(0);
    expect(none.fills).toEqual([]);
  });
});

describe('ticksFromBars', () => {
  // Bar 0 (00:00): open 100, high 103, low 99 → low nearer (1 < 3): 100 → 99 → 103 → close 102.
  // Bar 1 (04:00): open 102, high 104, low 100 → tie (2 = 2): high first: 102 → 104 → 100 → close 100.
  // Bar 2 (08:00): open 100, high 101, low 96 → high nearer: 100 → 101 → 96 → close 101.
  const tf = 4 * 3_600_000;
  const derive = () =>
    ticksFromBars(
      Float64Array.of(at('2024-01-01T00:00:00Z'), at('2024-01-01T04:00:00Z'), at('2024-01-01T08:00:00Z')),
      Float64Array.of(100, 102, 100),
      Float64Array.of(103, 104, 101),
      Float64Array.of(99, 100, 96),
      Float64Array.of(102, 100, 101),
      Float64Array.of(40, 8, 4),
      tf,
    );

  it('walks open → nearer extreme (high on a tie) → farther extreme → close', () => {
    const t = derive();
    expect(Array.from(t.price)).toEqual([100, 99, 103, 102, 102, 104, 100, 100, 100, 101, 96, 101]);
  });

  it('stamps the ticks at the open time + 0, ¼, ½ and ¾ of the bar', () => {
    const t = derive();
    expect(Array.from(t.ts, iso)).toEqual([
      '2024-01-01T00:00:00.000Z', '2024-01-01T01:00:00.000Z', '2024-01-01T02:00:00.000Z', '2024-01-01T03:00:00.000Z',
      '2024-01-01T04:00:00.000Z', '2024-01-01T05:00:00.000Z', '2024-01-01T06:00:00.000Z', '2024-01-01T07:00:00.000Z',
      '2024-01-01T08:00:00.000Z', '2024-01-01T09:00:00.000Z', '2024-01-01T10:00:00.000Z', '2024-01-01T11:00:00.000Z',
    ]);
  });

  it("gives each tick a quarter of the bar's volume", () => {
    const t = derive();
    expect(Array.from(t.quantity)).toEqual([10, 10, 10, 10, 2, 2, 2, 2, 1, 1, 1, 1]);
  });

  it('marks a tick a buy (+1) when the price did not fall from the previous tick (the first tick too), else a sell (−1)', () => {
    const t = derive();
    // prices: 100 99 103 102 | 102 104 100 100 | 100 101 96 101
    expect(Array.from(t.side)).toEqual([1, -1, 1, -1, 1, 1, -1, 1, 1, 1, -1, 1]);
  });

  it('gives no ticks for no bars', () => {
    const empty = ticksFromBars(new Float64Array(0), new Float64Array(0), new Float64Array(0), new Float64Array(0), new Float64Array(0), new Float64Array(0), tf);
    expect(empty.ts).toHaveLength(0);
  });
});
