import { describe, expect, it } from 'vitest';
import { at, fundingTable, testInstrument } from '../../test/support/engine-scenarios.js';
import {
  FixedBpsSlippage,
  FixedLatency,
  FUNDING_INTERVAL_MS,
  InstrumentFeeModel,
  TableFundingModel,
  UNLIMITED_FILLS,
  VolumeParticipationFillModel,
  VolumeParticipationSlippage,
  ZERO_LATENCY,
} from './execution-models.js';

// Instrument: maker 0.0002, taker 0.00055 (test/support/engine-scenarios.ts).
const X = testInstrument();

describe('InstrumentFeeModel', () => {
  it("charges the instrument's own maker / taker rate on the notional", () => {
    const fees = new InstrumentFeeModel();
    expect(fees.fee(X, 1000, 'maker')).toBeCloseTo(0.2, 12); // 1000 × 0.0002
    expect(fees.fee(X, 1000, 'taker')).toBeCloseTo(0.55, 12); // 1000 × 0.00055
  });

  it('an override replaces only the rate it names (0 included)', () => {
    expect(new InstrumentFeeModel({ maker: 0 }).fee(X, 1000, 'maker')).toBe(0);
    expect(new InstrumentFeeModel({ maker: 0 }).fee(X, 1000, 'taker')).toBeCloseTo(0.55, 12);
    expect(new InstrumentFeeModel({ taker: 0.001 }).fee(X, 1000, 'taker')).toBeCloseTo(1, 12);
    expect(new InstrumentFeeModel({ taker: 0.001 }).fee(X, 1000, 'maker')).toBeCloseTo(0.2, 12);
  });
});

describe('FixedBpsSlippage', () => {
  it('moves the price bps against the taker: up for a buy, down for a sell', () => {
    const s = new FixedBpsSlippage(25);
    expect(s.fillPrice('buy', 200)).toBeCloseTo(200.5, 10); // 200 × 1.0025
    expect(s.fillPrice('sell', 200)).toBeCloseTo(199.5, 10); // 200 × 0.9975
  });
});

describe('VolumeParticipationSlippage', () => {
  it('adds impactBps × participation^exponent to baseBps', () => {
    // participation 25 / 100 = 0.25; √0.25 = 0.5; bps = 2 + 40 × 0.5 = 22
    const s = new VolumeParticipationSlippage(2, 40);
    expect(s.fillPrice('buy', 100, 25, 100)).toBeCloseTo(100.22, 10);
    expect(s.fillPrice('sell', 100, 25, 100)).toBeCloseTo(99.78, 10);
    // exponent 1: bps = 2 + 40 × 0.25 = 12
    expect(new VolumeParticipationSlippage(2, 40, 1).fillPrice('buy', 100, 25, 100)).toBeCloseTo(100.12, 10);
  });

  it('caps the slippage at maxBps (default 500)', () => {
    // participation 4 (400 of a 100 volume): 10 + 1000 × 2 = 2010 bps → capped
    expect(new VolumeParticipationSlippage(10, 1000).fillPrice('buy', 100, 400, 100)).toBeCloseTo(105, 10);
    expect(new VolumeParticipationSlippage(10, 1000, 0.5, 50).fillPrice('sell', 100, 400, 100)).toBeCloseTo(99.5, 10);
  });

  it('takes full participation (1) when the bar has no volume, or none is known (NaN)', () => {
    // bps = 2 + 40 × 1 = 42
    const s = new VolumeParticipationSlippage(2, 40);
    expect(s.fillPrice('buy', 100, 5, 0)).toBeCloseTo(100.42, 10);
    expect(s.fillPrice('buy', 100, 5, NaN)).toBeCloseTo(100.42, 10);
  });
});

describe('TableFundingModel', () => {
  const table = fundingTable([
    ['2024-01-01T00:00:00Z', 0.0001],
    ['2024-01-01T08:00:00Z', -0.0002],
    ['2024-01-02T00:00:00Z', 0.0003],
  ]);

  it('returns the table rate at a settlement it holds, from the first query on', () => {
    const f = new TableFundingModel([table], { kind: 'zero' });
    expect(f.rate(0, at('2024-01-01T00:00:00Z'))).toEqual({ rate: 0.0001, source: 'table' });
    expect(f.rate(0, at('2024-01-01T08:00:00Z'))).toEqual({ rate: -0.0002, source: 'table' });
    expect(f.rate(0, at('2024-01-02T00:00:00Z'))).toEqual({ rate: 0.0003, source: 'table' });
    expect(f.fallbackUsed).toEqual([{ count: 0, first: NaN, last: NaN }]);
  });

  it('uses the fallback where the table has no settlement, and counts the first and last such time', () => {
    const f = new TableFundingModel([table], { kind: 'constant', rate: 0.00005 });
    expect(f.rate(0, at('2023-12-31T16:00:00Z'))).toEqual({ rate: 0.00005, source: 'fallback' }); // before the table
    expect(f.rate(0, at('2024-01-01T08:00:00Z'))).toEqual({ rate: -0.0002, source: 'table' });
    expect(f.rate(0, at('2024-01-01T16:00:00Z'))).toEqual({ rate: 0.00005, source: 'fallback' }); // a hole
    expect(f.rate(0, at('2024-01-02T08:00:00Z'))).toEqual({ rate: 0.00005, source: 'fallback' }); // after the table
    expect(f.fallbackUsed).toEqual([{ count: 3, first: at('2023-12-31T16:00:00Z'), last: at('2024-01-02T08:00:00Z') }]);
  });

  it('a zero fallback gives rate 0', () => {
    const f = new TableFundingModel([table], { kind: 'zero' });
    expect(f.rate(0, at('2024-01-01T16:00:00Z'))).toEqual({ rate: 0, source: 'fallback' });
  });

  it('instruments without a table (null) or beyond the tables get no funding and count no fallback', () => {
    const f = new TableFundingModel([null, table], { kind: 'constant', rate: 0.0001 });
    expect(f.rate(0, at('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(f.rate(2, at('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(f.rate(1, at('2024-01-01T00:00:00Z'))).toEqual({ rate: 0.0001, source: 'table' });
    expect(f.fallbackUsed).toEqual([
      { count: 0, first: NaN, last: NaN },
      { count: 0, first: NaN, last: NaN },
    ]);
  });

  it('keeps one cursor and one counter per instrument', () => {
    const f = new TableFundingModel([table, table], { kind: 'zero' });
    expect(f.rate(0, at('2024-01-02T00:00:00Z'))).toEqual({ rate: 0.0003, source: 'table' });
    // instrument 1's cursor has not moved: its first settlement is still found
    expect(f.rate(1, at('2024-01-01T00:00:00Z'))).toEqual({ rate: 0.0001, source: 'table' });
    f.rate(1, at('2024-01-01T16:00:00Z'));
    expect(f.fallbackUsed.map((u) => u.count)).toEqual([0, 1]);
  });

  it('reset() rewinds the cursors and clears the fallback counters', () => {
    const f = new TableFundingModel([table], { kind: 'zero' });
    f.rate(0, at('2024-01-01T16:00:00Z'));
    f.rate(0, at('2024-01-02T00:00:00Z'));
    f.reset();
    expect(f.fallbackUsed).toEqual([{ count: 0, first: NaN, last: NaN }]);
    expect(f.rate(0, at('2024-01-01T00:00:00Z'))).toEqual({ rate: 0.0001, source: 'table' });
    f.rate(0, at('2024-01-01T16:00:00Z'));
    expect(f.fallbackUsed).toEqual([{ count: 1, first: at('2024-01-01T16:00:00Z'), last: at('2024-01-01T16:00:00Z') }]);
  });

  it('settlements are 8 hours apart', () => {
    expect(FUNDING_INTERVAL_MS).toBe(at('2024-01-01T08:00:00Z') - at('2024-01-01T00:00:00Z'));
  });
});

describe('fill models', () => {
  it('UNLIMITED_FILLS puts no cap on any volume', () => {
    expect(UNLIMITED_FILLS.available(0)).toBe(Infinity);
    expect(UNLIMITED_FILLS.available(123)).toBe(Infinity);
  });

  it('VolumeParticipationFillModel offers cap × volume, and nothing on a bar without volume', () => {
    const m = new VolumeParticipationFillModel(0.1);
    expect(m.available(250)).toBeCloseTo(25, 12);
    expect(m.available(0)).toBe(0);
    expect(m.available(NaN)).toBe(0);
    expect(new VolumeParticipationFillModel(1).available(250)).toBe(250);
  });

  it('VolumeParticipationFillModel takes a cap in (0, 1] only', () => {
    expect(() => new VolumeParticipationFillModel(0)).toThrow(new RangeError('VolumeParticipationFillModel: `cap` must be in (0, 1], was 0'));
    expect(() => new VolumeParticipationFillModel(1.5)).toThrow('`cap` must be in (0, 1], was 1.5');
    expect(() => new VolumeParticipationFillModel(-0.5)).toThrow(RangeError);
    expect(() => new VolumeParticipationFillModel(NaN)).toThrow(RangeError);
    expect(new VolumeParticipationFillModel(1e-9).cap).toBe(1e-9);
  });
});

describe('latency models', () => {
  it('ZERO_LATENCY delivers every command at once', () => {
    expect(ZERO_LATENCY.commandLatency(0, at('2024-01-01T00:00:00Z'))).toBe(0);
  });

  it('FixedLatency delays every command by its ms', () => {
    expect(new FixedLatency(250).commandLatency()).toBe(250);
    expect(new FixedLatency(0).commandLatency()).toBe(0);
  });

  it('FixedLatency takes a finite ms >= 0 only', () => {
    expect(() => new FixedLatency(-1)).toThrow(new RangeError('FixedLatency: `ms` must be a finite number >= 0, was -1'));
    expect(() => new FixedLatency(Infinity)).toThrow('was Infinity');
    expect(() => new FixedLatency(NaN)).toThrow(RangeError);
  });
});
