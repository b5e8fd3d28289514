import { describe, expect, it } from 'vitest';
import { BybitError } from './bybit-error.js';
import { formatStoreSymbol, formatUnifiedSymbol, parseStoreSymbol, parseSymbolArgument, parseUnifiedSymbol, storeToUnifiedSymbol, unifiedToStoreSymbol } from './symbols.js';

describe('symbol mapping: ccxt unified BTC/USDT:USDT <-> store BTCUSDT', () => {
  it.each([
    ['BTC/USDT:USDT', 'BTCUSDT'],
    ['ETH/USDT:USDT', 'ETHUSDT'],
    ['SOL/USDT:USDT', 'SOLUSDT'],
    ['1000PEPE/USDT:USDT', '1000PEPEUSDT'],
  ])('%s <-> %s', (unified, store) => {
    expect(unifiedToStoreSymbol(unified)).toBe(store);
    expect(storeToUnifiedSymbol(store)).toBe(unified);
    expect(parseUnifiedSymbol(unified)).toEqual({ success: true, data: { base: unified.split('/')[0], quote: 'USDT', settle: 'USDT' } });
  });

  it('round-trips parse and format', () => {
    const parsed = parseUnifiedSymbol('ETH/USDT:USDT');
    if (!parsed.success) throw parsed.error;
    expect(formatUnifiedSymbol(parsed.data)).toBe('ETH/USDT:USDT');
    expect(formatStoreSymbol(parsed.data)).toBe('ETHUSDT');
    const stored = parseStoreSymbol('ETHUSDT');
    if (!stored.success) throw stored.error;
    expect(stored.data).toEqual(parsed.data);
  });

  it.each([
    ['BTC/USDT', 'symbol must be a ccxt unified linear perpetual symbol like BTC/USDT:USDT, was "BTC/USDT"'],
    ['btc/usdt:usdt', 'symbol must be a ccxt unified linear perpetual symbol like BTC/USDT:USDT, was "btc/usdt:usdt"'],
    ['BTC/USDT:USDT-250926', 'symbol must be a ccxt unified linear perpetual symbol like BTC/USDT:USDT, was "BTC/USDT:USDT-250926"'],
    ['BTC/USD:BTC', 'symbol must be quoted and settled in USDT (a linear perpetual like BTC/USDT:USDT), was "BTC/USD:BTC"'],
    ['BTC/USDC:USDC', 'symbol must be quoted and settled in USDT (a linear perpetual like BTC/USDT:USDT), was "BTC/USDC:USDC"'],
    ['', 'symbol must be a ccxt unified linear perpetual symbol like BTC/USDT:USDT, was ""'],
  ])('rejects unified %j with a message naming the value', (text, message) => {
    const r = parseUnifiedSymbol(text);
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.error).toBeInstanceOf(BybitError);
    expect(r.error.code).toBe('invalid_argument');
    expect(r.error.message).toBe(message);
    expect(r.error.context).toEqual({ symbol: text });
    expect(() => unifiedToStoreSymbol(text)).toThrow(message);
  });

  it.each(['BTCUSD', 'BTCPERP', 'USDT', 'btcusdt', 'BTC-USDT'])('rejects store symbol %j', (text) => {
    const r = parseStoreSymbol(text);
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.error.code).toBe('invalid_argument');
    expect(r.error.message).toBe(`symbol must be a Bybit USDT linear perpetual like BTCUSDT, was ${JSON.stringify(text)}`);
    expect(() => storeToUnifiedSymbol(text)).toThrow(BybitError);
  });

  it('accepts either form as a user argument', () => {
    expect(parseSymbolArgument(' SOL/USDT:USDT ')).toEqual({ success: true, data: { base: 'SOL', quote: 'USDT', settle: 'USDT' } });
    expect(parseSymbolArgument('SOLUSDT')).toEqual({ success: true, data: { base: 'SOL', quote: 'USDT', settle: 'USDT' } });
    expect(parseSymbolArgument('SOL/USDT').success).toBe(false);
  });
});
