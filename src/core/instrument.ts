import { AppError } from './app-error.js';

/** What an instrument is: a USDT-margined linear perpetual or a spot pair. */
export type InstrumentKind = 'linear-perpetual' | 'spot';

/**
 * Trading rules of one instrument. Quantities are in the base asset (contracts × `contractMultiplier`),
 * prices and notionals in the quote asset (USDT). Fees are fractions of notional (0.00055 = 0.055%).
 */
export interface Instrument {
  /** Canonical id `<SYMBOL>-<LINEAR|SPOT>.<VENUE>`, e.g. `BTCUSDT-LINEAR.BYBIT`. */
  readonly id: string;
  readonly symbol: string;
  readonly venue: string;
  readonly kind: InstrumentKind;
  readonly baseCurrency: string;
  readonly quoteCurrency: string;
  readonly tickSize: number;
  /** Quantity step; order quantities are floored to a multiple of it. */
  readonly lotSize: number;
  readonly minQuantity: number;
  readonly minNotional: number;
  readonly contractMultiplier: number;
  readonly makerFee: number;
  readonly takerFee: number;
  readonly maxLeverage: number;
  /** Maintenance margin as a fraction of position notional (tier-1 risk limit). */
  readonly maintenanceMarginRate: number;
}

/** Formats the canonical instrument id. */
export function formatInstrumentId(symbol: string, kind: InstrumentKind, venue: string): string {
  return `${symbol}-${kind === 'spot' ? 'SPOT' : 'LINEAR'}.${venue.toUpperCase()}`;
}

/** Parses `BTCUSDT-LINEAR.BYBIT`. @throws AppError `invalid_instrument_id`. */
export function parseInstrumentId(id: string): { symbol: string; kind: InstrumentKind; venue: string } {
  const m = /^([A-Z0-9]+)-(LINEAR|SPOT)\.([A-Z0-9-]+)$/.exec(id);
  if (!m) throw new AppError('invalid_instrument_id', `instrument id must look like BTCUSDT-LINEAR.BYBIT, was ${JSON.stringify(id)}`, { id });
  return { symbol: m[1]!, kind: m[2] === 'SPOT' ? 'spot' : 'linear-perpetual', venue: m[3]! };
}

const bybitLinear = (symbol: string, base: string, tickSize: number, lotSize: number, maxLeverage: number, maintenanceMarginRate: number): Instrument => ({
  id: formatInstrumentId(symbol, 'linear-perpetual', 'BYBIT'),
  symbol,
  venue: 'BYBIT',
  kind: 'linear-perpetual',
  baseCurrency: base,
  quoteCurrency: 'USDT',
  tickSize,
  lotSize,
  minQuantity: lotSize,
  minNotional: 5,
  contractMultiplier: 1,
  makerFee: 0.0002,
  takerFee: 0.00055,
  maxLeverage,
  maintenanceMarginRate,
});

/**
 * Bybit USDT linear perpetuals with the rules Bybit publishes in `/v5/market/instruments-info` (tick size, qty step,
 * min notional 5 USDT) and non-VIP fees (maker 0.02%, taker 0.055%); maintenance margin of the first risk-limit tier.
 */
export const BYBIT_LINEAR_PERPETUALS: Readonly<Record<string, Instrument>> = Object.freeze({
  BTCUSDT: bybitLinear('BTCUSDT', 'BTC', 0.1, 0.001, 100, 0.005),
  ETHUSDT: bybitLinear('ETHUSDT', 'ETH', 0.01, 0.01, 100, 0.005),
  SOLUSDT: bybitLinear('SOLUSDT', 'SOL', 0.01, 0.1, 100, 0.01),
});

/** A spot pair: no leverage, no shorting, no funding; Binance-like non-VIP fee 0.1%. */
export function spotInstrument(symbol: string, venue: string, base: string, quote = 'USDT'): Instrument {
  return {
    id: formatInstrumentId(symbol, 'spot', venue),
    symbol,
    venue: venue.toUpperCase(),
    kind: 'spot',
    baseCurrency: base,
    quoteCurrency: quote,
    tickSize: 0.01,
    lotSize: 0.00001,
    minQuantity: 0.00001,
    minNotional: 5,
    contractMultiplier: 1,
    makerFee: 0.001,
    takerFee: 0.001,
    maxLeverage: 1,
    maintenanceMarginRate: 0,
  };
}
