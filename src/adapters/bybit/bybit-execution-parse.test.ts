import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BybitError } from './bybit-error.js';
import { parseBalanceReport, parseFillReport, parseFundingReport, parseOrderReport, parsePositionReport } from './bybit-execution-parse.js';

/** Recorded venue JSON: `*.docs.json` are Bybit's documented examples (as ccxt quotes them), `*.local.json` the local v5 venue's answers. */
function fixture(name: string): { result: { list: Record<string, unknown>[] } } {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../../test/fixtures/bybit', name), 'utf8')) as { result: { list: Record<string, unknown>[] } };
}
const symbols = new Map([
  ['BTCUSDT', 0],
  ['QNTUSDT', 1],
  ['XRPUSDT', 2],
]);

/** The `invalid_response` BybitError `f` throws (a test failure when it throws none or another). */
function refused(f: () => unknown): BybitError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BybitError);
    expect((e as BybitError).code).toBe('invalid_response');
    return e as BybitError;
  }
  return expect.unreachable('no error');
}

describe('Bybit v5 JSON → venue reports', () => {
  it("maps Bybit's documented order (market sell, filled, reduce-only)", () => {
    const report = parseOrderReport(fixture('http_get_order_realtime.docs.json').result.list[0], symbols);
    expect(report).toEqual({
      clientOrderId: '',
      venueOrderId: 'f5f2d355-9a11-4af3-9b83-aa1d6ab6ddfe',
      instrument: 0,
      side: 'sell',
      type: 'market',
      timeInForce: 'IOC',
      quantity: 0.001,
      price: NaN,
      reduceOnly: true,
      status: 'FILLED',
      filledQuantity: 0.001,
      averageFillPrice: 122529.9,
      tsEvent: 1757837618909,
    });
  });

  it("maps Bybit's documented execution (maker fill, fee in quote)", () => {
    const fill = parseFillReport(fixture('http_get_execution_list.docs.json').result.list[0], symbols, 42);
    expect(fill).toEqual({
      executionId: '2210000000101610464',
      instrument: 1,
      clientOrderId: '1549452573428424449',
      venueOrderId: '1549452573428424448',
      side: 'buy',
      quantity: 0.01,
      price: 102.8,
      fee: 0.0000025,
      liquidity: 'maker',
      tsEvent: 1699445151998,
      tsInit: 42,
    });
  });

  it("maps Bybit's documented unified-account position and wallet balance", () => {
    expect(parsePositionReport(fixture('http_get_position_list.docs.json').result.list[0], symbols)).toEqual({ instrument: 2, quantity: 100, averagePrice: 0.3615, tsEvent: 1672279322668 });
    const balance = parseBalanceReport(fixture('http_get_account_wallet_balance.docs.json').result, 'BTC', 7);
    expect(balance).toEqual({ currency: 'BTC', walletBalance: 0.805994, equity: 0.805994, available: 17887.72614237, tsEvent: 7 });
  });

  it('maps the local venue: working partial fill, post-only rejection, filled market order', () => {
    const [working] = fixture('http_get_order_realtime.local.json').result.list.map((o) => parseOrderReport(o, symbols));
    expect(working).toMatchObject({ clientOrderId: 'rec_limit_0', status: 'PARTIALLY_FILLED', quantity: 0.2, filledQuantity: 0.1, price: 99.5, averageFillPrice: 99.5, timeInForce: 'GTC' });
    const history = fixture('http_get_order_history.local.json').result.list.map((o) => parseOrderReport(o, symbols));
    expect(history.map((o) => [o.clientOrderId, o.status, o.reason])).toEqual([
      ['rec_postonly_2', 'REJECTED', 'post-only order would take liquidity'],
      ['rec_market_1', 'FILLED', undefined],
      ['rec_limit_0', 'PARTIALLY_FILLED', undefined],
    ]);
  });

  it('maps the local venue: taker and maker fills with the contract fees, position and wallet', () => {
    const fills = fixture('http_get_execution_list.local.json').result.list.map((e) => parseFillReport(e, symbols, 0)!);
    expect(fills.map((f) => [f.clientOrderId, f.quantity, f.price, f.liquidity])).toEqual([
      ['rec_limit_0', 0.1, 99.5, 'maker'],
      ['rec_market_1', 0.1, 100.2, 'taker'],
    ]);
    expect(fills[0]!.fee).toBeCloseTo(0.1 * 99.5 * 0.0002, 12);
    expect(fills[1]!.fee).toBeCloseTo(0.1 * 100.2 * 0.00055, 12);
    expect(parsePositionReport(fixture('http_get_position_list.local.json').result.list[0], symbols)).toMatchObject({ instrument: 0, quantity: 0.2, averagePrice: 99.85 });
    const balance = parseBalanceReport(fixture('http_get_account_wallet_balance.local.json').result, 'USDT', 0);
    expect(balance.walletBalance).toBeCloseTo(100_000 - fills[0]!.fee - fills[1]!.fee, 9);
    expect(balance.equity).toBeCloseTo(balance.walletBalance + 0.2 * (99.5 - 99.85), 9);
  });

  it('flat positions have no average; short positions are negative', () => {
    const base = fixture('http_get_position_list.local.json').result.list[0]!;
    expect(parsePositionReport({ ...base, side: '', size: '0', avgPrice: '0' }, symbols)).toMatchObject({ quantity: 0, averagePrice: NaN });
    expect(parsePositionReport({ ...base, side: 'Sell', size: '0.3' }, symbols)).toMatchObject({ quantity: -0.3 });
  });

  it('rejects corrupt payloads with invalid_response naming the field; funding executions are not fills', () => {
    const order = fixture('http_get_order_realtime.local.json').result.list[0]!;
    const bad = (f: () => unknown, field: RegExp) => expect(refused(f).message).toMatch(field);
    bad(() => parseOrderReport({ ...order, cumExecQty: 'NaN' }, symbols), /cumExecQty/);
    bad(() => parseOrderReport({ ...order, orderStatus: 'Exploded' }, symbols), /Exploded/);
    bad(() => parseOrderReport({ ...order, symbol: 'DOGEUSDT' }, symbols), /DOGEUSDT.*not a configured instrument/);
    const exec = fixture('http_get_execution_list.local.json').result.list[0]!;
    bad(() => parseFillReport({ ...exec, execPrice: '0' }, symbols, 0), /execPrice 0/);
    expect(parseFillReport({ ...exec, execType: 'Funding' }, symbols, 0)).toBeUndefined();
    expect(parseFillReport({ ...exec, execType: 'BustTrade' }, symbols, 0)).toMatchObject({ reason: 'liquidation' });
  });

  it('maps a funding execution (no order; execQty the position, execPrice the mark, feeRate the rate, execFee paid): signed position, negative when received; other types are none', () => {
    const exec = fixture('http_get_execution_list.local.json').result.list[0]!;
    const funding = { ...exec, execType: 'Funding', orderId: '', orderLinkId: '', execId: 'f-1', side: 'Sell', execQty: '0.3', execPrice: '101.5', feeRate: '-0.0001', execFee: '-0.003045', execTime: '1700006400000' };
    expect(parseFundingReport(funding, symbols)).toEqual({ executionId: 'f-1', instrument: 0, quantity: -0.3, rate: -0.0001, markPrice: 101.5, payment: -0.003045, tsEvent: 1700006400000 });
    expect(parseFundingReport({ ...funding, side: 'Buy', feeRate: '0.0001', execFee: '0.003045' }, symbols)).toMatchObject({ quantity: 0.3, payment: 0.003045 });
    expect(parseFundingReport(exec, symbols)).toBeUndefined();
    expect(parseFillReport(funding, symbols, 0)).toBeUndefined();
    const bad = (f: () => unknown, field: RegExp) => expect(refused(f).message).toMatch(field);
    bad(() => parseFundingReport({ ...funding, execFee: 'x' }, symbols), /execFee/);
    bad(() => parseFundingReport({ ...funding, feeRate: undefined }, symbols), /feeRate undefined/);
    bad(() => parseFundingReport({ ...funding, execPrice: '0' }, symbols), /execPrice 0/);
    bad(() => parseFundingReport({ ...funding, symbol: 'DOGEUSDT' }, symbols), /DOGEUSDT/);
  });
});

describe('Bybit v5 JSON → venue reports, field by field', () => {
  const order = fixture('http_get_order_realtime.local.json').result.list[0]!;
  const exec = fixture('http_get_execution_list.local.json').result.list[0]!;
  const position = fixture('http_get_position_list.local.json').result.list[0]!;
  const wallet = fixture('http_get_account_wallet_balance.local.json').result.list[0]!;

  it('maps every Bybit order status (conditional ones included) to the engine’s state', () => {
    const status = (orderStatus: string, extra: Record<string, unknown> = {}) => parseOrderReport({ ...order, orderStatus, cumExecQty: '0', avgPrice: '', ...extra }, symbols).status;
    // Each engine state and the Bybit statuses that mean it (conditional orders work until triggered or deactivated).
    const meaning: Record<string, string[]> = {
      ACCEPTED: ['Created', 'New', 'Untriggered', 'Triggered'],
      PARTIALLY_FILLED: ['PartiallyFilled'],
      FILLED: ['Filled'],
      CANCELED: ['Cancelled', 'PartiallyFilledCanceled', 'Deactivated'],
      REJECTED: ['Rejected'],
    };
    for (const [state, statuses] of Object.entries(meaning)) expect(statuses.map((s) => status(s)), state).toEqual(statuses.map(() => state));
    // A post-only order Bybit canceled for taking liquidity is the engine's rejection, unless part of it filled.
    expect(status('Cancelled', { rejectReason: 'EC_PostOnlyWillTakeLiquidity' })).toBe('REJECTED');
    expect(status('Cancelled', { rejectReason: 'EC_PostOnlyWillTakeLiquidity', cumExecQty: '0.1', avgPrice: '99.5' })).toBe('CANCELED');
    expect(status('Filled', { rejectReason: 'EC_PostOnlyWillTakeLiquidity' })).toBe('FILLED');
    expect(status('Cancelled', { rejectReason: 'EC_PerCancelRequest' })).toBe('CANCELED');
  });

  it('says why an order closed in the engine’s words; other codes pass through', () => {
    const reason = (extra: Record<string, unknown>) => parseOrderReport({ ...order, ...extra }, symbols).reason;
    expect(reason({ orderStatus: 'Cancelled', rejectReason: 'EC_PostOnlyWillTakeLiquidity', cumExecQty: '0' })).toBe('post-only order would take liquidity');
    expect(reason({ orderStatus: 'Cancelled', rejectReason: 'EC_NoImmediateQtyToFill' })).toBe('IOC: no immediate quantity to fill, remainder canceled');
    expect(reason({ orderStatus: 'Cancelled', rejectReason: 'EC_CancelForNoFullFill' })).toBe('FOK: not fillable in full, canceled');
    expect(reason({ orderStatus: 'Cancelled', rejectReason: 'EC_ReduceOnlyCancel' })).toBe('reduce-only: remainder above the position canceled');
    expect(reason({ orderStatus: 'Cancelled', rejectReason: 'EC_PerCancelRequest' })).toBe('canceled on request');
    expect(reason({ orderStatus: 'Rejected', rejectReason: 'EC_InvalidSymbolStatus' })).toBe('EC_InvalidSymbolStatus');
    // No reason code: a cancel names its cancelType when Bybit gives one.
    expect(reason({ orderStatus: 'Cancelled', rejectReason: 'EC_NoError', cancelType: 'CancelByUser' })).toBe('canceled (CancelByUser)');
    expect(reason({ orderStatus: 'Deactivated', rejectReason: '', cancelType: 'CancelByTpSlTsClear' })).toBe('canceled (CancelByTpSlTsClear)');
    expect(reason({ orderStatus: 'Cancelled', rejectReason: 'EC_NoError', cancelType: 'UNKNOWN' })).toBe('canceled');
    expect(reason({ orderStatus: 'Cancelled', rejectReason: undefined, cancelType: undefined })).toBe('canceled');
    // Working and filled orders have none.
    expect(reason({ orderStatus: 'New', rejectReason: 'EC_NoError', cancelType: 'UNKNOWN' })).toBeUndefined();
    expect(reason({ orderStatus: 'Filled', rejectReason: '', cancelType: 'CancelByUser' })).toBeUndefined();
    expect('reason' in parseOrderReport({ ...order, orderStatus: 'New' }, symbols)).toBe(false);
  });

  it('maps side, type, time in force, prices and times of an order', () => {
    const o = (extra: Record<string, unknown>) => parseOrderReport({ ...order, ...extra }, symbols);
    expect(o({ side: 'Sell', orderType: 'Market', price: '' })).toMatchObject({ side: 'sell', type: 'market', price: NaN });
    expect(o({ side: 'Buy', orderType: 'Limit', price: '101.25' })).toMatchObject({ side: 'buy', type: 'limit', price: 101.25 });
    // A limit order's missing price is unknown (NaN), never 0.
    expect(o({ orderType: 'Limit', price: '' }).price).toBeNaN();
    expect(['GTC', 'IOC', 'FOK', 'PostOnly'].map((timeInForce) => o({ timeInForce }).timeInForce)).toEqual(['GTC', 'IOC', 'FOK', 'GTC']);
    expect(o({ qty: '0.35', cumExecQty: '0.15', avgPrice: '99.75', updatedTime: '1767600000123' })).toMatchObject({ quantity: 0.35, filledQuantity: 0.15, averageFillPrice: 99.75, tsEvent: 1767600000123 });
    // An average with nothing filled, or a zero/absent average, is no price.
    expect(o({ cumExecQty: '0', avgPrice: '99.5' }).averageFillPrice).toBeNaN();
    expect(o({ cumExecQty: '0.1', avgPrice: '0' }).averageFillPrice).toBeNaN();
    expect(o({ cumExecQty: '0.1', avgPrice: '' }).averageFillPrice).toBeNaN();
  });

  it('accepts Bybit’s decimal and time texts only whole: signs, fractions and exponents, nothing around them', () => {
    expect(parseFillReport({ ...exec, execFee: '2.5e-10' }, symbols, 0)!.fee).toBe(2.5e-10);
    expect(parseFillReport({ ...exec, execFee: '-1.5E-7' }, symbols, 0)!.fee).toBe(-1.5e-7);
    expect(parseFillReport({ ...exec, execFee: '1e3' }, symbols, 0)!.fee).toBe(1000);
    expect(parseFillReport({ ...exec, execFee: '-0.0123' }, symbols, 0)!.fee).toBe(-0.0123);
    for (const execFee of ['0.01x', 'x0.01', '1e', '1e-', '1e-x', '.5', '1.', '']) expect(refused(() => parseFillReport({ ...exec, execFee }, symbols, 0)).message).toMatch(/^Bybit execution: field execFee: /);
    for (const execTime of ['1767600000021x', 'x1767600000021', '12345678901234567', '']) expect(refused(() => parseFillReport({ ...exec, execTime }, symbols, 0)).message).toMatch(/^Bybit execution: field execTime: /);
    expect(parseFillReport({ ...exec, execTime: '1767600000021' }, symbols, 0)!.tsEvent).toBe(1767600000021);
  });

  it('maps an execution’s side, liquidity and kind; only trades, liquidations and deleveraging are fills', () => {
    expect(parseFillReport({ ...exec, side: 'Sell', isMaker: false, execType: 'Trade' }, symbols, 0)).toMatchObject({ side: 'sell', liquidity: 'taker' });
    expect(parseFillReport({ ...exec, side: 'Buy', isMaker: true }, symbols, 0)).toMatchObject({ side: 'buy', liquidity: 'maker' });
    expect('reason' in parseFillReport({ ...exec, execType: 'Trade' }, symbols, 0)!).toBe(false);
    expect(parseFillReport({ ...exec, execType: 'AdlTrade' }, symbols, 0)).toMatchObject({ reason: 'liquidation' });
    for (const execType of ['Funding', 'Settle', 'Delivery', '']) expect(parseFillReport({ ...exec, execType }, symbols, 0)).toBeUndefined();
  });

  it('refuses an execution without a positive quantity and price or with an infinite fee, naming it', () => {
    for (const bad of [{ execQty: '0' }, { execQty: '-0.1' }, { execPrice: '0' }, { execFee: '1e999' }]) {
      const e = refused(() => parseFillReport({ ...exec, ...bad }, symbols, 0));
      expect(e.message).toMatch(new RegExp(`^Bybit execution ${String(exec['execId'])}: execQty .*, execPrice .* must be > 0 and execFee .* finite$`));
      expect(e.context).toEqual({ execId: exec['execId'] });
    }
  });

  it('maps a position’s sign and average; flat or averageless positions have none; an empty time is 0', () => {
    const p = (extra: Record<string, unknown>) => parsePositionReport({ ...position, ...extra }, symbols);
    expect(p({ side: 'Buy', size: '0.5', avgPrice: '100.5', updatedTime: '1767600000200' })).toEqual({ instrument: 0, quantity: 0.5, averagePrice: 100.5, tsEvent: 1767600000200 });
    expect(p({ side: 'Sell', size: '0.5', avgPrice: '100.5' })).toMatchObject({ quantity: -0.5, averagePrice: 100.5 });
    expect(p({ side: 'None', size: '0', avgPrice: '100.5' }).averagePrice).toBeNaN();
    expect(p({ side: 'Buy', size: '0.5', avgPrice: '0' }).averagePrice).toBeNaN();
    expect(p({ side: 'Buy', size: '0.5', avgPrice: '' }).averagePrice).toBeNaN();
    expect(p({ updatedTime: '' }).tsEvent).toBe(0);
  });

  it('reads the wallet: the account’s available balance, else the coin’s; refuses an empty list or a missing coin', () => {
    const balance = (account: Record<string, unknown>, currency = 'USDT') => parseBalanceReport({ list: [account] }, currency, 5);
    expect(balance(wallet)).toEqual({ currency: 'USDT', walletBalance: 99999.992499, equity: 99999.922499, available: 99996.937499, tsEvent: 5 });
    const coin = (wallet['coin'] as Record<string, unknown>[])[0]!;
    expect(balance({ ...wallet, totalAvailableBalance: '123.5' }).available).toBe(123.5);
    expect(balance({ ...wallet, totalAvailableBalance: '', coin: [{ ...coin, availableToWithdraw: '77.25' }] }).available).toBe(77.25);
    expect(balance({ ...wallet, totalAvailableBalance: undefined, coin: [{ ...coin, availableToWithdraw: '66' }] }).available).toBe(66);
    expect(balance({ ...wallet, totalAvailableBalance: undefined, coin: [{ ...coin, availableToWithdraw: undefined }] }).available).toBeNaN();
    const other = { ...coin, coin: 'BTC', walletBalance: '1.5', equity: '1.5' };
    expect(balance({ ...wallet, coin: [other, coin] })).toMatchObject({ walletBalance: 99999.992499 });
    expect(balance({ ...wallet, coin: [other, coin] }, 'BTC')).toMatchObject({ currency: 'BTC', walletBalance: 1.5 });
    const missing = refused(() => balance({ ...wallet, coin: [other, { ...other, coin: 'ETH' }] }));
    expect(missing.message).toBe('Bybit wallet balance has no USDT coin (has BTC, ETH)');
    expect(missing.context).toEqual({ currency: 'USDT' });
    expect(refused(() => balance({ ...wallet, coin: [] })).message).toBe('Bybit wallet balance has no USDT coin (has none)');
    for (const result of [undefined, {}, { list: [] }, { list: 'x' }]) expect(refused(() => parseBalanceReport(result, 'USDT', 0)).message).toBe('Bybit wallet balance: result.list is empty');
    const nested = refused(() => balance({ ...wallet, coin: [{ ...coin, equity: 'lots' }] }));
    expect(nested.message).toMatch(/^Bybit wallet balance: field coin\.0\.equity: /);
    expect(nested.context).toEqual({ field: 'coin.0.equity' });
  });

  it('names the payload, the field and the configured instruments in its refusals', () => {
    const field = refused(() => parseOrderReport({ ...order, qty: 'many' }, symbols));
    expect(field.message).toMatch(/^Bybit order: field qty: /);
    expect(field.context).toEqual({ field: 'qty' });
    expect(refused(() => parseOrderReport('not an order', symbols)).message).toMatch(/^Bybit order: field \(root\): /);
    expect(refused(() => parsePositionReport({ ...position, size: 'x' }, symbols)).message).toMatch(/^Bybit position: field size: /);
    const status = refused(() => parseOrderReport({ ...order, orderStatus: 'Exploded' }, symbols));
    expect(status.message).toBe(`Bybit order ${String(order['orderId'])}: orderStatus "Exploded" is not one this adapter maps`);
    expect(status.context).toEqual({ orderStatus: 'Exploded' });
    for (const [what, f] of [
      ['order', () => parseOrderReport({ ...order, symbol: 'DOGEUSDT' }, symbols)],
      ['execution', () => parseFillReport({ ...exec, symbol: 'DOGEUSDT' }, symbols, 0)],
      ['position', () => parsePositionReport({ ...position, symbol: 'DOGEUSDT' }, symbols)],
    ] as const) {
      const e = refused(f);
      expect(e.message).toBe(`Bybit ${what} is for DOGEUSDT, which is not a configured instrument (BTCUSDT, QNTUSDT, XRPUSDT)`);
      expect(e.context).toEqual({ symbol: 'DOGEUSDT' });
    }
  });
});
