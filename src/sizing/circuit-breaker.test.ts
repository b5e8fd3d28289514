/**
 * StrykerJS mutants of circuit-breaker.ts these tests leave alive (`TM_MUTATION_TESTS='src/sizing/**\/*.test.ts'`, run of
 * 2026-12-01: 205 killed, 10 survived before the tests for them; 5 are killed since), all equivalent:
 * - recordError's `this.current !== 'open' &&` → `true &&` (or `'' !==`) and markEquity's `this.current === 'open' ||`
 *   → `false ||` (or `=== ''`) (4): while open, `fire` returns at once, so the extra trigger check changes nothing.
 * - markEquity `!(this.peak >= equity)` → `!(this.peak > equity)`: at peak === equity it re-sets the same peak.
 */
import { describe, expect, it } from 'vitest';
import { unwrap } from '../core/result.js';
import { CircuitBreaker, type BreakerTransition } from './circuit-breaker.js';
import { parseRiskConfig, type RiskConfigInput } from './risk-config.js';
import { SizingError } from './sizing-error.js';

/** A clock that moves only when told to (the engine's TestClock, structurally). */
class FakeClock {
  constructor(public t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const BAR = 60_000; // 1-minute bars: stale-data limit 2 × 60 s = 120 s
const HOUR = 3_600_000;

function make(breaker: RiskConfigInput['breaker'] = {}, start = 1_000_000) {
  const config = unwrap(parseRiskConfig({ breaker })).breaker;
  const clock = new FakeClock(start);
  const heard: BreakerTransition[] = [];
  const cb = new CircuitBreaker(config, { clock, barMs: BAR, onTransition: (t) => heard.push(t) });
  return { cb, clock, heard };
}

/** Opens a closed breaker by hand at the clock's time. */
function tripped(breaker: RiskConfigInput['breaker'] = {}) {
  const m = make(breaker);
  m.cb.onBar(10_000);
  m.cb.trip('test');
  return m;
}

/** A breaker in half-open: tripped, then exactly one cooldown later. */
function halfOpen(breaker: RiskConfigInput['breaker'] = {}) {
  const m = tripped(breaker);
  m.clock.advance(HOUR);
  expect(m.cb.check()).toBe('half-open');
  return m;
}

describe('CircuitBreaker: closed → open triggers', () => {
  it('starts closed with no transitions', () => {
    const { cb } = make();
    expect(cb.state).toBe('closed');
    expect(cb.check()).toBe('closed');
    expect(cb.transitions).toEqual([]);
  });

  it('drawdown: opens exactly at 10% from peak equity, not at 9.99%, with the values in a frozen event', () => {
    const { cb, clock, heard } = make();
    cb.onBar(10_000);
    clock.advance(BAR);
    expect(cb.onBar(9500)).toBe('closed');
    expect(cb.onEquity(9000.01)).toBe('closed'); // 9.9999%
    expect(cb.onEquity(9000)).toBe('open'); // (10,000 − 9,000) / 10,000 = 10%
    expect(cb.transitions).toHaveLength(1);
    const t = cb.transitions[0]!;
    expect(t).toEqual({
      tsEvent: 1_000_000 + BAR,
      from: 'closed',
      to: 'open',
      cause: 'drawdown',
      reason: 'drawdown 10.00% from peak equity 10000 (equity 9000) reached the limit 10.00%',
      values: { drawdown: 0.1, limit: 0.1, peakEquity: 10_000, equity: 9000 },
    });
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.values)).toBe(true);
    expect(heard).toEqual([t]);
    expect(heard[0]).toBe(t);
  });

  it('drawdown is measured from the running peak', () => {
    const { cb } = make();
    cb.onBar(10_000);
    cb.onEquity(11_000);
    expect(cb.peakEquity).toBe(11_000);
    expect(cb.onEquity(9950)).toBe('closed'); // 9.55% from 11,000 (but 0.5% from the first equity)
    expect(cb.onEquity(9900)).toBe('open'); // 10% from 11,000
    expect(cb.transitions[0]!.values).toMatchObject({ peakEquity: 11_000, equity: 9900 });
  });

  it('drawdown limit is configurable', () => {
    const { cb } = make({ drawdown: { limit: 0.2 } });
    cb.onBar(10_000);
    expect(cb.onEquity(8001)).toBe('closed');
    expect(cb.onEquity(8000)).toBe('open');
  });

  it('consecutive losses: the 5th loss in a row opens; a win or a breakeven trade resets the streak', () => {
    const { cb } = make();
    for (let i = 0; i < 4; i++) expect(cb.onTradeClosed(-10)).toBe('closed');
    expect(cb.consecutiveLosses).toBe(4);
    cb.onTradeClosed(5);
    expect(cb.consecutiveLosses).toBe(0);
    for (let i = 0; i < 4; i++) cb.onTradeClosed(-10);
    cb.onTradeClosed(0);
    expect(cb.consecutiveLosses).toBe(0);
    for (let i = 0; i < 4; i++) expect(cb.onTradeClosed(-1)).toBe('closed');
    expect(cb.onTradeClosed(-2)).toBe('open');
    expect(cb.transitions[0]).toMatchObject({ cause: 'consecutive_losses', values: { consecutiveLosses: 5, limit: 5, pnl: -2 } });
    expect(cb.consecutiveLosses).toBe(0); // restarted on open
  });

  it('stale data: opens when more than 2 bars (120 s) of engine time pass without a bar, not at exactly 120 s', () => {
    const { cb, clock } = make();
    cb.onBar(10_000);
    clock.advance(2 * BAR);
    expect(cb.check()).toBe('closed');
    clock.advance(1);
    expect(cb.check()).toBe('open');
    expect(cb.transitions[0]).toMatchObject({ cause: 'stale_data', values: { gapMs: 120_001, maxGapMs: 120_000, since: 1_000_000 } });
  });

  it('stale data is also seen on the arrival of the bar after the gap (backtests call no timer)', () => {
    const { cb, clock } = make();
    cb.onBar();
    clock.advance(3 * BAR);
    expect(cb.onBar()).toBe('open');
    expect(cb.transitions[0]).toMatchObject({ cause: 'stale_data', values: { gapMs: 180_000 } });
  });

  it('stale data: nothing is stale before the first bar; maxGapBars is configurable', () => {
    const { cb, clock } = make({ staleData: { maxGapBars: 5 } });
    clock.advance(100 * HOUR);
    expect(cb.check()).toBe('closed');
    cb.onBar();
    clock.advance(5 * BAR);
    expect(cb.check()).toBe('closed');
    clock.advance(1);
    expect(cb.check()).toBe('open');
  });

  it('model errors: 3 within 10 min open (each counts while its age < 10 min)', () => {
    const { cb, clock } = make();
    cb.onModelError(); // t0
    clock.advance(300_000);
    cb.onModelError(); // t0 + 5 min
    clock.advance(300_000);
    expect(cb.onModelError()).toBe('closed'); // t0 + 10 min: the first is exactly 10 min old → out
    clock.advance(1);
    expect(cb.onModelError()).toBe('open'); // last 3 span 300,001 ms
    expect(cb.transitions[0]).toMatchObject({ cause: 'model_errors', values: { errors: 3, spanMs: 300_001, windowMs: 600_000 } });
  });

  it('model errors: 3 within 599,999 ms open', () => {
    const { cb, clock } = make();
    cb.onModelError();
    clock.advance(100_000);
    cb.onModelError();
    clock.advance(499_999);
    expect(cb.onModelError()).toBe('open');
  });

  it('exchange errors: 4 within 5 min keep it closed, the 5th opens', () => {
    const { cb, clock } = make();
    for (let i = 0; i < 4; i++) {
      expect(cb.onExchangeError()).toBe('closed');
      clock.advance(60_000);
    }
    // errors at 0, 60, 120, 180 s; the 5th at 240 s: span 240 s < 300 s
    expect(cb.onExchangeError()).toBe('open');
  });

  it('exchange errors: the 5th within the window opens, the window boundary is exclusive', () => {
    const a = make();
    for (let i = 0; i < 4; i++) {
      a.cb.onExchangeError();
      a.clock.advance(75_000);
    }
    // errors at 0, 75, 150, 225 s; the 5th at 300 s spans exactly 300 s → not within the window
    expect(a.cb.onExchangeError()).toBe('closed');
    const b = make();
    for (let i = 0; i < 4; i++) {
      b.cb.onExchangeError();
      b.clock.advance(74_999);
    }
    expect(b.cb.onExchangeError()).toBe('open');
    expect(b.cb.transitions[0]).toMatchObject({ cause: 'exchange_errors', values: { errors: 5, spanMs: 299_996, windowMs: 300_000 } });
    const c = make({ exchangeErrors: { count: 2, windowMs: 1000 } });
    c.cb.onExchangeError();
    c.clock.advance(999);
    expect(c.cb.onExchangeError()).toBe('open');
  });

  it('manual trip opens with the given reason', () => {
    const { cb } = make();
    expect(cb.trip('operator kill switch')).toBe('open');
    expect(cb.transitions[0]).toMatchObject({ cause: 'manual', reason: 'manual trip: operator kill switch', values: {} });
  });

  it('every trigger can be disabled', () => {
    const off = { enabled: false };
    const { cb, clock } = make({ drawdown: off, consecutiveLosses: off, staleData: off, modelErrors: off, exchangeErrors: off });
    cb.onBar(10_000);
    cb.onEquity(1000); // −90%
    for (let i = 0; i < 20; i++) {
      cb.onTradeClosed(-1);
      cb.onModelError();
      cb.onExchangeError();
    }
    clock.advance(100 * HOUR);
    expect(cb.check()).toBe('closed');
    expect(cb.transitions).toEqual([]);
  });
});

describe('CircuitBreaker: open → half-open after the cooldown (engine clock)', () => {
  it('stays open at cooldown − 1 ms and turns half-open exactly at 1 h', () => {
    const { cb, clock } = tripped();
    clock.advance(HOUR - 1);
    expect(cb.check()).toBe('open');
    clock.advance(1);
    expect(cb.check()).toBe('half-open');
    expect(cb.transitions[1]).toMatchObject({
      tsEvent: 1_000_000 + HOUR,
      from: 'open',
      to: 'half-open',
      cause: 'cooldown_elapsed',
      values: { openedAt: 1_000_000, cooldownMs: HOUR, elapsedMs: HOUR },
    });
  });

  it('any call applies the due transition (onBar after a long gap enters half-open first)', () => {
    const { cb, clock } = tripped();
    clock.advance(2 * HOUR);
    expect(cb.onBar(10_000)).toBe('half-open');
    expect(cb.transitions.map((t) => t.to)).toEqual(['open', 'half-open']);
  });

  it('ignores triggers while open (no extra transitions), and the cooldown is configurable', () => {
    const { cb, clock } = tripped({ cooldownMs: 10_000 });
    cb.onEquity(1);
    for (let i = 0; i < 10; i++) {
      cb.onTradeClosed(-1);
      cb.onExchangeError();
    }
    cb.trip('again');
    expect(cb.transitions).toHaveLength(1);
    clock.advance(9_999);
    expect(cb.check()).toBe('open');
    clock.advance(1);
    expect(cb.check()).toBe('half-open');
  });
});

describe('CircuitBreaker: half-open → closed (probe passed) | open (probe failed)', () => {
  it('closes when the next bar after the half-open entry arrives with no trigger', () => {
    const { cb, clock, heard } = halfOpen();
    expect(cb.onBar(10_000)).toBe('half-open'); // same instant as the entry: does not count
    clock.advance(BAR);
    expect(cb.onBar(10_050)).toBe('closed');
    expect(cb.transitions[2]).toMatchObject({ from: 'half-open', to: 'closed', cause: 'probe_passed', values: { probeBars: 1 }, tsEvent: 1_000_000 + HOUR + BAR });
    expect(heard.map((t) => `${t.from}->${t.to}`)).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('probe.bars = 3 needs three bars', () => {
    const { cb, clock } = halfOpen({ probe: { bars: 3 } });
    for (let i = 0; i < 2; i++) {
      clock.advance(BAR);
      expect(cb.onBar(10_000)).toBe('half-open');
    }
    clock.advance(BAR);
    expect(cb.onBar(10_000)).toBe('closed');
  });

  it('reopens on a drawdown during the probe, measured from the equity at the half-open entry, with a new cooldown', () => {
    const { cb, clock } = tripped();
    cb.onEquity(9000); // equity kept falling while open (ignored)
    clock.advance(HOUR);
    cb.check();
    expect(cb.peakEquity).toBe(9000);
    clock.advance(BAR);
    expect(cb.onBar(8100)).toBe('open'); // 10% below 9,000
    const failed = cb.transitions[2]!;
    expect(failed).toMatchObject({ from: 'half-open', to: 'open', cause: 'drawdown', values: { peakEquity: 9000, equity: 8100 } });
    expect(failed.reason).toMatch(/^probe failed: drawdown 10.00%/);
    clock.advance(HOUR - 1);
    expect(cb.check()).toBe('open');
    clock.advance(1);
    expect(cb.check()).toBe('half-open');
  });

  it('reopens on a losing trade during the probe (probe.failOnLosingTrade, default on)', () => {
    const { cb } = halfOpen();
    expect(cb.onTradeClosed(-0.01)).toBe('open');
    expect(cb.transitions[2]).toMatchObject({ cause: 'losing_probe_trade', values: { pnl: -0.01 } });
    expect(cb.transitions[2]!.reason).toMatch(/^probe failed: /);
  });

  it('with failOnLosingTrade off, a losing probe trade only extends the loss streak', () => {
    const { cb, clock } = halfOpen({ probe: { failOnLosingTrade: false } });
    expect(cb.onTradeClosed(-1)).toBe('half-open');
    expect(cb.consecutiveLosses).toBe(1);
    clock.advance(BAR);
    expect(cb.onBar(10_000)).toBe('closed');
  });

  it('a winning probe trade does not fail the probe, nor does a breakeven one', () => {
    const { cb } = halfOpen();
    expect(cb.onTradeClosed(3)).toBe('half-open');
    expect(cb.onTradeClosed(0)).toBe('half-open');
  });

  it('trades closed while open do not count towards the loss streak of the probe', () => {
    // limit 3, probe losses only extend the streak: 2 losses while open, then 1 in half-open is a streak of 1
    const { cb, clock } = tripped({ consecutiveLosses: { limit: 3 }, probe: { failOnLosingTrade: false } });
    expect(cb.onTradeClosed(-1)).toBe('open');
    expect(cb.onTradeClosed(-1)).toBe('open');
    expect(cb.consecutiveLosses).toBe(0);
    clock.advance(HOUR);
    expect(cb.onTradeClosed(-1)).toBe('half-open');
    expect(cb.consecutiveLosses).toBe(1);
  });

  it('reopens on stale data: no bar within 2 bars of the half-open entry', () => {
    const { cb, clock } = halfOpen();
    clock.advance(2 * BAR);
    expect(cb.check()).toBe('half-open');
    clock.advance(1);
    expect(cb.check()).toBe('open');
    expect(cb.transitions[2]).toMatchObject({ from: 'half-open', to: 'open', cause: 'stale_data', values: { gapMs: 120_001 } });
  });

  it('reopens on model errors and on exchange errors during the probe', () => {
    const m = halfOpen();
    m.cb.onModelError();
    m.cb.onModelError();
    expect(m.cb.onModelError()).toBe('open');
    expect(m.cb.transitions[2]).toMatchObject({ from: 'half-open', cause: 'model_errors' });
    const x = halfOpen();
    for (let i = 0; i < 4; i++) x.cb.onExchangeError();
    expect(x.cb.onExchangeError()).toBe('open');
    expect(x.cb.transitions[2]).toMatchObject({ from: 'half-open', cause: 'exchange_errors' });
  });

  it('a full cycle closed → open → half-open → open → half-open → closed, every event frozen and heard once', () => {
    const { cb, clock, heard } = make();
    cb.onBar(10_000);
    for (let i = 0; i < 5; i++) cb.onTradeClosed(-1);
    clock.advance(HOUR);
    cb.onBar(10_000); // enters half-open, does not count
    clock.advance(BAR);
    cb.onTradeClosed(-1); // probe fails
    clock.advance(HOUR);
    cb.check();
    clock.advance(BAR);
    cb.onBar(10_000);
    expect(cb.state).toBe('closed');
    expect(cb.transitions.map((t) => [t.from, t.to, t.cause])).toEqual([
      ['closed', 'open', 'consecutive_losses'],
      ['open', 'half-open', 'cooldown_elapsed'],
      ['half-open', 'open', 'losing_probe_trade'],
      ['open', 'half-open', 'cooldown_elapsed'],
      ['half-open', 'closed', 'probe_passed'],
    ]);
    expect(heard).toEqual(cb.transitions);
    expect(cb.transitions.every((t) => Object.isFrozen(t) && Object.isFrozen(t.values))).toBe(true);
    expect(cb.transitions.map((t) => t.tsEvent)).toEqual([1_000_000, 1_000_000 + HOUR, 1_000_000 + HOUR + BAR, 1_000_000 + 2 * HOUR + BAR, 1_000_000 + 2 * HOUR + 2 * BAR]);
  });
});

describe('CircuitBreaker: transition reasons and values', () => {
  it('each cause names its values in the reason', () => {
    const losses = make();
    for (let i = 0; i < 5; i++) losses.cb.onTradeClosed(-2);
    expect(losses.cb.transitions[0]!.reason).toBe('5 losing trades in a row reached the limit 5 (last pnl -2)');

    const stale = make();
    stale.cb.onBar();
    stale.clock.advance(3 * BAR);
    stale.cb.check();
    expect(stale.cb.transitions[0]!.reason).toBe('no bar for 180000 ms of engine time (limit 120000 ms)');

    const model = make();
    model.cb.onModelError();
    model.clock.advance(1000);
    model.cb.onModelError();
    model.clock.advance(500);
    model.cb.onModelError();
    expect(model.cb.transitions[0]).toMatchObject({ reason: '3 model errors within 1500 ms (window 600000 ms)', values: { errors: 3, spanMs: 1500, windowMs: 600_000 } });

    const exchange = make({ exchangeErrors: { count: 2 } });
    exchange.cb.onExchangeError();
    exchange.clock.advance(7);
    exchange.cb.onExchangeError();
    expect(exchange.cb.transitions[0]!.reason).toBe('2 exchange errors within 7 ms (window 300000 ms)');

    const cycle = halfOpen();
    expect(cycle.cb.transitions[1]!.reason).toBe(`cooldown of ${HOUR} ms elapsed (${HOUR} ms since open): probing`);
    cycle.clock.advance(BAR);
    cycle.cb.onBar(10_000);
    expect(cycle.cb.transitions[2]!.reason).toBe('probe passed: 1 bar(s) in half-open without a trigger');

    const probe = halfOpen();
    probe.cb.onTradeClosed(-0.5);
    expect(probe.cb.transitions[2]!.reason).toBe('probe failed: a trade closed at a loss of -0.5 during the probe');
  });
});

describe('CircuitBreaker: stale inputs', () => {
  it('a stale external input opens the breaker (stale_data) naming the input and the time of its newest value', () => {
    const { cb, clock, heard } = make();
    cb.onBar(10_000);
    clock.advance(1000);
    expect(cb.onStaleInput('funding BTCUSDT', Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('open');
    expect(heard).toEqual([
      { tsEvent: 1_001_000, from: 'closed', to: 'open', cause: 'stale_data', reason: 'input funding BTCUSDT is stale: its newest value is from 2026-01-02T03:04:05.000Z', values: { lastValueTs: Date.UTC(2026, 0, 2, 3, 4, 5) } },
    ]);
  });

  it('is ignored when the stale-data trigger is disabled, and applies the due transitions first', () => {
    const off = make({ staleData: { enabled: false } });
    expect(off.cb.onStaleInput('dvol', 0)).toBe('closed');
    expect(off.cb.transitions).toEqual([]);
    const due = tripped();
    due.clock.advance(HOUR);
    expect(due.cb.onStaleInput('dvol', 0)).toBe('open');
    expect(due.cb.transitions.map((t) => [t.from, t.to, t.cause])).toEqual([
      ['closed', 'open', 'manual'],
      ['open', 'half-open', 'cooldown_elapsed'],
      ['half-open', 'open', 'stale_data'],
    ]);
    expect(due.cb.transitions[2]!.reason).toBe('probe failed: input dvol is stale: its newest value is from 1970-01-01T00:00:00.000Z');
  });
});

describe('CircuitBreaker: state kept between events', () => {
  it('state, peak equity and the loss streak are readable without a clock read', () => {
    const { cb, clock } = make();
    expect(cb.peakEquity).toBeNaN();
    cb.onBar(100);
    cb.onEquity(120);
    cb.onEquity(110);
    expect(cb.peakEquity).toBe(120);
    cb.onTradeClosed(-1);
    cb.onTradeClosed(-1);
    expect(cb.consecutiveLosses).toBe(2);
    clock.advance(100 * HOUR);
    expect(cb.state).toBe('closed'); // no clock read: the stale gap is not applied yet
    expect(cb.check()).toBe('open');
    expect(cb.state).toBe('open');
  });

  it('opening restarts the peak at the current equity; the cooldown entry does too', () => {
    const { cb, clock } = make();
    cb.onBar(10_000);
    cb.onEquity(9500);
    cb.trip('x');
    expect(cb.peakEquity).toBe(9500);
    cb.onEquity(9400); // while open: marked, never a trigger
    clock.advance(HOUR);
    cb.check();
    expect(cb.peakEquity).toBe(9400);
  });

  it('a breaker opened before any bar does not go stale in half-open (the stale timer starts at the first bar)', () => {
    const { cb, clock } = make();
    cb.trip('before any bar');
    clock.advance(HOUR);
    expect(cb.check()).toBe('half-open');
    clock.advance(10 * HOUR);
    expect(cb.check()).toBe('half-open');
    clock.advance(BAR);
    expect(cb.onBar()).toBe('closed');
  });

  it('no drawdown is measured from a peak <= 0', () => {
    const { cb } = make();
    cb.onBar(0);
    cb.onEquity(-50);
    expect(cb.peakEquity).toBe(0);
    expect(cb.check()).toBe('closed');
    const neg = make();
    neg.cb.onBar(-100);
    neg.cb.onEquity(-200);
    expect(neg.cb.peakEquity).toBe(-100);
    expect(neg.cb.check()).toBe('closed');
  });
});

describe('CircuitBreaker: inputs', () => {
  it('rejects a non-finite equity or pnl and a bar length <= 0 or infinite', () => {
    const { cb } = make();
    expect(() => cb.onEquity(Number.NaN)).toThrow(/`equity` must be finite, was NaN/);
    expect(() => cb.onBar(Number.POSITIVE_INFINITY)).toThrow(SizingError);
    expect(() => cb.onTradeClosed(Number.NaN)).toThrow(/`pnl` must be finite/);
    const config = unwrap(parseRiskConfig({})).breaker;
    expect(() => new CircuitBreaker(config, { clock: new FakeClock(), barMs: 0 })).toThrow(/`barMs` must be finite and > 0, was 0/);
    expect(() => new CircuitBreaker(config, { clock: new FakeClock(), barMs: Infinity })).toThrow(/`barMs` must be finite and > 0, was Infinity/);
  });
});
