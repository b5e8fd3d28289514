import type { RegimeAnnotationRecord, TierAnnotationRecord } from '../engine/annotation-recorder.js';
import type { FundingSource } from '../engine/kernel.js';
import type { RiskRule } from '../engine/risk/risk-limits.js';
import type { FlattenEvent, TradingStateChange } from '../engine/risk/trading-state.js';
/**
 * Everything a backtest run produces, in columnar form. Metrics, the JSON summary and the HTML report are pure
 * functions of this value.
 */
export interface BacktestResult {
  readonly name: string;
  /** Instrument ids in engine order, e.g. `BTCUSDT-LINEAR.BYBIT`. */
  readonly instruments: readonly string[];
  /** Price series each instrument was traded on (venue/symbol/timeframe), and any substitution made (e.g. Bybit rules on Binance spot prices). */
  readonly dataSources: readonly { readonly instrument: string; readonly venue: string; readonly symbol: string; readonly timeframe: string; readonly note?: string }[];
  readonly timeframe: string;
  /** Bars per year used for annualisation (4h: 2190). */
  readonly periodsPerYear: number;
  readonly initialCash: number;
  /** Equity curve sampled at every bar close: time (epoch ms, bar close) and account equity (quote currency, USDT). */
  readonly equity: { readonly ts: Float64Array; readonly value: Float64Array };
  /**
   * Per instrument, per bar: OHLC (for candlestick plots) and the position held at the close (signed base quantity).
   * A bar run writes the position and PnL columns of every instrument when one of them is first read (getters).
   */
  readonly bars: readonly {
    readonly ts: Float64Array; // bar open times
    readonly open: Float64Array;
    readonly high: Float64Array;
    readonly low: Float64Array;
    readonly close: Float64Array;
    /**
     * 1 where the instrument had a bar at that grid time, 0 where it had none (its row is NaN or forward-filled and
     * was never traded on; see BarFrame.present). Absent: every row is a bar.
     */
    readonly present?: Uint8Array;
    readonly position: Float64Array;
    /**
     * Cumulative mark-to-market PnL of the instrument at each bar close, quote currency, net of its fees and funding:
     * realised − fees − funding + position × (close − average entry). Per bar, Σ over instruments of its change is the
     * equity change. Recorded by the bar runner; absent from results made elsewhere (tick runner, hand-made results).
     */
    readonly pnl?: Float64Array;
  }[];
  /**
   * Bars at whose close a position was held in any instrument (the bar runner counts them from its records, so that
   * the metrics' exposure, this over the bars, needs no position column written); absent from results made elsewhere,
   * whose exposure is counted from the position columns.
   */
  readonly exposedBars?: number;
  /** Every fill, in time order. */
  readonly fills: readonly FillRecord[];
  /** Closed round trips (entry to flat or to reversal), for win rate / profit factor and the trades table. */
  readonly trades: readonly TradeRecord[];
  /** Funding payments (positive = paid by us). */
  readonly funding: readonly { readonly ts: number; readonly instrument: string; readonly rate: number; readonly markPrice: number; readonly position: number; readonly payment: number; readonly source: FundingSource }[];
  /** Human-readable notes the report must show: fallbacks applied, substitutions, liquidations. */
  readonly notes: readonly string[];
  /** Gross traded notional (sum |qty × price| over fills). */
  readonly turnoverNotional: number;
  readonly feesPaid: number;
  readonly fundingPaid: number;
  /**
   * The account per instrument at the end of the run, engine order: the engine's own position accounting (the
   * portfolio every fill and funding payment was booked into), so no reader re-derives entry prices or realised PnL
   * from the fills.
   */
  readonly positions: readonly PositionRecord[];
  readonly liquidations: number;
  /** Prices the simulated venue processed (bar path points or ticks) while orders worked or positions were open. */
  readonly venuePriceEvents?: number;
  /** Bars whose range the simulated venue checked against working orders or an open position (the path runs only when a price in it can act). */
  readonly venueBarsChecked?: number;
  readonly seed: number;
  readonly config: Readonly<Record<string, unknown>>;
  /** What the strategy annotated during the run (sizing tiers, regime probabilities); absent when it annotated nothing. */
  readonly annotations?: BacktestAnnotations;
  /** What the pre-trade risk engine did (also in `notes`); absent when it denied nothing and the state never changed. */
  readonly risk?: BacktestRisk;
}

/** Pre-trade risk activity of a run: denials per rule, trading state changes and flattens, in engine time. */
export interface BacktestRisk {
  readonly denials: Readonly<Partial<Record<RiskRule, number>>>;
  readonly stateChanges: readonly TradingStateChange[];
  readonly flattens: readonly FlattenEvent[];
}

/**
 * Strategy annotations of a run (see `StrategyContext.annotateTier` / `annotateRegime`). Optional parts are absent
 * when the strategy recorded none of that kind.
 */
export interface BacktestAnnotations {
  /**
   * Sizing-tier changes in time order: from `ts` (engine time of the decision, a bar close) on, `tier` is in force for
   * `instrument` until its next entry. `reason` is the rule that chose it (e.g. `no_rl_sizer`, `breaker_open`,
   * `no_signal`).
   */
  readonly tiers?: readonly TierAnnotation[];
  /** Filtered regime probabilities per instrument (one entry per instrument that recorded any). */
  readonly regimeProbabilities?: readonly RegimeProbabilities[];
}

export type TierAnnotation = TierAnnotationRecord<string>;
export type RegimeProbabilities = RegimeAnnotationRecord<string>;

/** One instrument's account at the end of a run (quote currency). */
export interface PositionRecord {
  readonly instrument: string;
  /** Signed base quantity held. */
  readonly quantity: number;
  /** Average entry price of what is held (0 when flat). */
  readonly entryPrice: number;
  /** PnL realised by reductions against the average entry, before fees and funding. */
  readonly realizedPnl: number;
  readonly fees: number;
  /** Funding paid (negative: received). */
  readonly funding: number;
}

export interface FillRecord {
  readonly ts: number;
  readonly instrument: string;
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly quantity: number;
  readonly price: number;
  readonly fee: number;
  readonly liquidity: 'maker' | 'taker';
  readonly reason?: 'liquidation';
}

export interface TradeRecord {
  readonly instrument: string;
  readonly direction: 'long' | 'short';
  readonly entryTs: number;
  readonly exitTs: number;
  readonly entryPrice: number; // volume-weighted
  readonly exitPrice: number; // volume-weighted
  readonly quantity: number; // max absolute size
  /** Realised PnL net of fees and funding attributed to the trade. */
  readonly pnl: number;
  readonly fees: number;
  readonly funding: number;
  readonly returnPct: number;
}
