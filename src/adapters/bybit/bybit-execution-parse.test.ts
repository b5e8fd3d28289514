import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BybitError } from './bybit-error.js';
import { parseBalanceReport, parseFillReport, parseOrderReport, parsePositionReport } from './bybit-execution-parse.js';

/** Recorded venue JSON: `*.docs.json` are Bybit's documented examples (as ccxt quotes them), `*.local.json` the local v5 venue's answers. */
function fixture(name: string): { result: { list: Record<string, unknown>[] } } {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../../test/fixtures/bybit', name), 'utf8')) as { result: { list: Record<string, unknown>[] } };
}
const symbols = new Map([
  ['BTCUSDT', 0],
  ['QNTUSDT', 1],
  ['XRPUSDT', 2],
]);

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
    const bad = (f: () => unknown, field: RegExp) => {
      try {
        f();
        expect.unreachable('no error');
      } catch (e) {
        expect(e).toBeInstanceOf(BybitError);
        expect((e as BybitError).code).toBe('invalid_response');
        expect((e as BybitError).message).toMatch(field);
      }
    };
    bad(() => parseOrderReport({ ...order, cumExecQty: 'NaN' }, symbols), /cumExecQty/);
    bad(() => parseOrderReport({ ...order, orderStatus: 'Exploded' }, symbols), /Exploded/);
    bad(() => parseOrderReport({ ...order, symbol: 'DOGEUSDT' }, symbols), /DOGEUSDT.*not a configured instrument/);
    const exec = fixture('http_get_execution_list.local.json').result.list[0]!;
    bad(() => parseFillReport({ ...exec, execPrice: '0' }, symbols, 0), /execPrice 0/);
    expect(parseFillReport({ ...exec, execType: 'Funding' }, symbols, 0)).toBeUndefined();
    expect(parseFillReport({ ...exec, execType: 'BustTrade' }, symbols, 0)).toMatchObject({ reason: 'liquidation' });
  });
});
