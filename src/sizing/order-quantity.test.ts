/**
 * StrykerJS mutants of order-quantity.ts these tests leave alive (`TM_MUTATION_TESTS='src/sizing/order-quantity.test.ts'`
 * plus the regime-forecast/kelly tests), all equivalent or without behavioural meaning:
 * - `f < 0` → `f <= 0` (short_not_allowed): f === 0 is taken by the `zero_fraction` branch just before.
 * - `if (reason === 'ok')` → `if (true)` before `order_below_min_quantity` / `order_below_min_notional` (2): that
 *   block runs only for target !== 0, and every reason other than `ok` has set the target to 0, so reason is `ok` there.
 * - floorToLot `inverse > 1` → `inverse >= 1` or → `true`: they differ only for inverse 1 or 0; inverse 1 with
 *   |lot − 1| < 1e-12 means lot 1, where steps / 1 = steps × 1, and inverse 0 never passes the |0 · lot − 1| < 1e-12 test.
 * - floorToLot `|inverse · lot − 1| < 1e-12` → `<=`, and the dust rule `|order| < lotSize · 1e-9` → `<=`: they differ
 *   only when the value is exactly at the tolerance (a lot 1e-12 off a reciprocal, an order of exactly 1e-9 lot), a
 *   float-noise bound with no meaning of its own.
 */
import { describe, expect, it } from 'vitest';
import { BYBIT_LINEAR_PERPETUALS, spotInstrument, type Instrument } from '../core/instrument.js';
import { fractionToQuantity } from './order-quantity.js';
import { SizingError } from './sizing-error.js';

const BTC = BYBIT_LINEAR_PERPETUALS['BTCUSDT']!; // lot 0.001, min qty 0.001, min notional 5, max leverage 100
const ETH = BYBIT_LINEAR_PERPETUALS['ETHUSDT']!; // lot 0.01
const SOL = BYBIT_LINEAR_PERPETUALS['SOLUSDT']!; // lot 0.1
const SPOT = spotInstrument('BTCUSDT', 'binance', 'BTC'); // lot 0.00001, max leverage 1, no shorts

describe('fractionToQuantity', () => {
  it('converts a fraction of equity to base units: 0.5 × 10,000 / 25,000 = 0.2 BTC', () => {
    const q = fractionToQuantity(0.5, 10_000, 25_000, BTC);
    expect(q).toEqual({ targetQuantity: 0.2, orderQuantity: 0.2, orderNotional: 5000, leverageCapped: false, reason: 'ok' });
  });

  it('floors to the lot size: 0.123456 × 10,000 / 30,000 = 0.041152 → 0.041 (printed exactly)', () => {
    const q = fractionToQuantity(0.123456, 10_000, 30_000, BTC);
    expect(q.targetQuantity).toBe(0.041);
    expect(String(q.targetQuantity)).toBe('0.041');
    expect(q.orderNotional).toBeCloseTo(1230, 9);
  });

  it('does not lose a lot to float noise: 0.29 ETH (0.29 / 0.01 = 28.999999999999996), 0.3 SOL (0.3 / 0.1 = 2.9999999999999996)', () => {
    expect(0.29 / 0.01).toBeLessThan(29);
    expect(fractionToQuantity(0.29, 1000, 1000, ETH).targetQuantity).toBe(0.29);
    expect(0.3 / 0.1).toBeLessThan(3);
    expect(fractionToQuantity(0.3, 1000, 1000, SOL).targetQuantity).toBe(0.3);
  });

  it('shorts on a linear perpetual: −0.5 → −0.2 BTC', () => {
    const q = fractionToQuantity(-0.5, 10_000, 25_000, BTC);
    expect(q.targetQuantity).toBe(-0.2);
    expect(q.orderQuantity).toBe(-0.2);
    expect(q.orderNotional).toBe(5000);
  });

  it('below one lot → 0 with `below_lot_size`: 0.04 × 100 / 25,000 = 0.00016 BTC', () => {
    expect(fractionToQuantity(0.04, 100, 25_000, BTC)).toMatchObject({ targetQuantity: 0, orderQuantity: 0, reason: 'below_lot_size' });
  });

  it('below the minimum notional → 0: 4 / 3,000 = 0.00133 → 0.001 BTC = 3 USDT < 5', () => {
    expect(fractionToQuantity(1, 4, 3000, BTC)).toMatchObject({ targetQuantity: 0, orderQuantity: 0, reason: 'below_min_notional' });
    // 5 USDT exactly is allowed: 1 × 5 / 5000 = 0.001 BTC = 5 USDT
    expect(fractionToQuantity(1, 5, 5000, BTC)).toMatchObject({ targetQuantity: 0.001, reason: 'ok' });
  });

  it('below the minimum quantity → 0', () => {
    const coarse: Instrument = { ...BTC, minQuantity: 0.01 };
    // 1 × 100 / 20,000 = 0.005 BTC >= lot 0.001 but < min 0.01 (notional 100 USDT is fine)
    expect(fractionToQuantity(1, 100, 20_000, coarse)).toMatchObject({ targetQuantity: 0, reason: 'below_min_quantity' });
    expect(fractionToQuantity(1, 200, 20_000, coarse)).toMatchObject({ targetQuantity: 0.01, reason: 'ok' });
  });

  it('zero fraction → target 0 and an order that closes the current position (always allowed)', () => {
    expect(fractionToQuantity(0, 10_000, 25_000, BTC, 0.1)).toMatchObject({ targetQuantity: 0, orderQuantity: -0.1, reason: 'zero_fraction' });
    // closing 0.001 BTC at 3,000 (3 USDT < min notional) is still allowed
    expect(fractionToQuantity(0, 10_000, 3000, BTC, 0.001)).toMatchObject({ targetQuantity: 0, orderQuantity: -0.001 });
  });

  it('spot cannot be short: a negative fraction → target 0 (`short_not_allowed`), selling what is held', () => {
    expect(fractionToQuantity(-0.5, 10_000, 25_000, SPOT)).toMatchObject({ targetQuantity: 0, orderQuantity: 0, reason: 'short_not_allowed' });
    expect(fractionToQuantity(-0.5, 10_000, 25_000, SPOT, 0.3)).toMatchObject({ targetQuantity: 0, orderQuantity: -0.3, reason: 'short_not_allowed' });
  });

  it("caps |fraction| at the instrument's max leverage: spot 2 → 1", () => {
    const q = fractionToQuantity(2, 10_000, 25_000, SPOT);
    expect(q.leverageCapped).toBe(true);
    expect(q.targetQuantity).toBe(0.4);
  });

  it('order = target − current; a too-small rebalance is not sent', () => {
    // target 0.2 with 0.15 held → buy 0.05
    expect(fractionToQuantity(0.5, 10_000, 25_000, BTC, 0.15).orderQuantity).toBeCloseTo(0.05, 15);
    // 603.5 / 3,000 = 0.20116 → 0.201; held 0.2 → 0.001 BTC = 3 USDT < 5: no order
    expect(fractionToQuantity(1, 603.5, 3000, BTC, 0.2)).toMatchObject({ targetQuantity: 0.201, orderQuantity: 0, orderNotional: 0, reason: 'order_below_min_notional' });
    const coarse: Instrument = { ...BTC, minQuantity: 0.01 };
    expect(fractionToQuantity(1, 2010, 10_000, coarse, 0.2)).toMatchObject({ targetQuantity: 0.201, orderQuantity: 0, reason: 'order_below_min_quantity' });
    // already at target: order 0, reason ok
    expect(fractionToQuantity(0.5, 10_000, 25_000, BTC, 0.2)).toMatchObject({ orderQuantity: 0, reason: 'ok' });
  });

  it('throws SizingError invalid_input for a bad price, equity, fraction or current quantity', () => {
    expect(() => fractionToQuantity(0.5, 10_000, 0, BTC)).toThrow(/`price` must be finite and > 0, was 0/);
    expect(() => fractionToQuantity(0.5, -1, 100, BTC)).toThrow(/`equity` must be finite and >= 0, was -1/);
    expect(() => fractionToQuantity(Number.NaN, 1, 100, BTC)).toThrow(SizingError);
    expect(() => fractionToQuantity(0.5, 1, 100, BTC, Number.POSITIVE_INFINITY)).toThrow(/`currentQuantity`/);
  });
});

describe('fractionToQuantity: input rules and the leverage cap at their boundaries', () => {
  it('names the parameter; equity 0 is allowed, infinite equity or price is not', () => {
    expect(() => fractionToQuantity(Number.NaN, 1, 100, BTC)).toThrow('`fraction` must be finite, was NaN');
    expect(() => fractionToQuantity(0.5, 1, 100, BTC, Number.NaN)).toThrow('`currentQuantity` must be finite, was NaN');
    expect(fractionToQuantity(0.5, 0, 100, BTC)).toMatchObject({ targetQuantity: 0, reason: 'below_lot_size' });
    expect(() => fractionToQuantity(0.5, Number.POSITIVE_INFINITY, 100, BTC)).toThrow('`equity` must be finite and >= 0, was Infinity');
    expect(() => fractionToQuantity(0.5, 1, Number.POSITIVE_INFINITY, BTC)).toThrow('`price` must be finite and > 0, was Infinity');
  });

  it('a fraction exactly at max leverage is not capped; a short beyond it is capped to −maxLeverage', () => {
    expect(fractionToQuantity(1, 10_000, 25_000, SPOT)).toMatchObject({ leverageCapped: false, targetQuantity: 0.4 });
    expect(fractionToQuantity(-150, 100, 10_000, BTC)).toMatchObject({ leverageCapped: true, targetQuantity: -1 });
  });
});

describe('fractionToQuantity: lot arithmetic, float noise and the order minimums at their boundaries', () => {
  it('writes a lot multiple as steps / (1 / lot): 9 lots of 0.001 BTC is 0.009, not 9 × 0.001 = 0.009000000000000001', () => {
    expect(9 * 0.001).not.toBe(0.009);
    const q = fractionToQuantity(1, 225, 25_000, BTC);
    expect(q.targetQuantity).toBe(0.009);
    expect(String(q.orderQuantity)).toBe('0.009');
  });

  it('a lot whose inverse is not an integer (0.3) is multiplied: 2.1 / 0.3 → 7 lots = 2.1, not 7 / 3', () => {
    const odd: Instrument = { ...SOL, lotSize: 0.3, minQuantity: 0.3 };
    // 21 / 10 = 2.1 SOL → 7 lots; 20 / 10 = 2 SOL → 6 lots = 1.8
    expect(fractionToQuantity(1, 21, 10, odd).targetQuantity).toBeCloseTo(2.1, 12);
    expect(fractionToQuantity(1, 20, 10, odd).targetQuantity).toBeCloseTo(1.8, 12);
  });

  it('a difference of lot multiples that is only float noise is no order: held 0.1 + 0.2 SOL, target 0.3', () => {
    expect(0.3 - (0.1 + 0.2)).not.toBe(0);
    expect(fractionToQuantity(0.3, 1000, 1000, SOL, 0.1 + 0.2)).toEqual({ targetQuantity: 0.3, orderQuantity: 0, orderNotional: 0, leverageCapped: false, reason: 'ok' });
    // closing a dust position of 1e-13 BTC (far below a lot): nothing to send
    expect(fractionToQuantity(0, 10_000, 25_000, BTC, 1e-13)).toMatchObject({ targetQuantity: 0, orderQuantity: 0, reason: 'zero_fraction' });
  });

  it('an order of exactly the minimum quantity or exactly the minimum notional is sent', () => {
    const coarse: Instrument = { ...BTC, minQuantity: 0.01 };
    // target 200 / 10,000 = 0.02, held 0.01 → buy 0.01 = minQuantity
    expect(fractionToQuantity(1, 200, 10_000, coarse, 0.01)).toMatchObject({ targetQuantity: 0.02, orderQuantity: 0.01, orderNotional: 100, reason: 'ok' });
    // target 10 / 5,000 = 0.002, held 0.001 → buy 0.001 BTC = 5 USDT = minNotional
    expect(fractionToQuantity(1, 10, 5000, BTC, 0.001)).toMatchObject({ targetQuantity: 0.002, orderQuantity: 0.001, orderNotional: 5, reason: 'ok' });
  });

  it('a too-small rebalance that reduces the position is not sent either (only a full close is always allowed)', () => {
    // target 0.2 BTC, held 0.201 → sell 0.001 BTC = 25 USDT >= 5 is sent; at 3,000 (3 USDT) it is not
    expect(fractionToQuantity(0.5, 10_000, 25_000, BTC, 0.201).orderQuantity).toBeCloseTo(-0.001, 15);
    expect(fractionToQuantity(1, 600, 3000, BTC, 0.201)).toMatchObject({ targetQuantity: 0.2, orderQuantity: 0, reason: 'order_below_min_notional' });
  });
});
