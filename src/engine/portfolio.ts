import type { Instrument } from '../core/instrument.js';
import type { Fill } from '../core/order.js';


/** What a fill books into the account: a {@link Fill}'s instrument, side, quantity (> 0), price and fee. */
export type FillAmounts = Pick<Fill, 'instrument' | 'side' | 'quantity' | 'price' | 'fee'>;
/** A {@link Portfolio} as plain JSON (see {@link Portfolio.save}). */
export interface PortfolioState {
  readonly cash: number;
  readonly quantity: readonly number[];
  readonly entryPrice: readonly number[];
  /** null where an instrument was never marked (NaN in memory). */
  readonly mark: readonly (number | null)[];
  readonly realized: readonly number[];
  readonly fees: readonly number[];
  readonly funding: readonly number[];
  readonly turnover: readonly number[];
}

/**
 * Account state of one strategy in quote currency (USDT), cross-margined, one net position per instrument.
 * `cash` = initial cash + realised PnL − fees − funding; equity = cash + Σ qty × (mark − entry), an instrument not yet
 * marked counting at its entry ({@link valuationPrice}).
 * Typed arrays indexed by instrument; no allocation per update.
 */
export class Portfolio {
  /**
   * Cash lives in a typed cell: as a plain field, the running sum in {@link equityInto} started from a tagged value
   * and every bar with an open position boxed a new number (one allocation per bar).
   */
  private readonly cashCell = new Float64Array(1);
  get cash(): number {
    return this.cashCell[0]!;
  }
  set cash(value: number) {
    this.cashCell[0] = value;
  }
  /** Incremented by every change of cash or positions (fills, funding, restore): lets readers cache derived values. */
  version = 0;
  readonly quantity: Float64Array;
  readonly entryPrice: Float64Array;
  readonly mark: Float64Array;
  readonly realized: Float64Array;
  readonly fees: Float64Array;
  readonly funding: Float64Array;
  readonly turnover: Float64Array;
  private readonly scratch = new Float64Array(1);
  /** Maintenance margin rate per instrument, from the instruments (a typed array for the per-bar margin arithmetic). */
  readonly maintenanceMarginRates: Float64Array;

  constructor(
    readonly instruments: readonly Instrument[],
    readonly initialCash: number,
  ) {
    const n = instruments.length;
    this.cash = initialCash;
    this.quantity = new Float64Array(n);
    this.entryPrice = new Float64Array(n);
    this.mark = new Float64Array(n).fill(NaN);
    this.realized = new Float64Array(n);
    this.fees = new Float64Array(n);
    this.funding = new Float64Array(n);
    this.turnover = new Float64Array(n);
    this.maintenanceMarginRates = Float64Array.from(instruments, (x) => x.maintenanceMarginRate);
  }

  /**
   * The price a position of instrument `i` is valued at: its mark, or its entry price before the instrument's first mark
   * (a fill on the path of its first bar comes before that bar's close marks it). Every valuation below uses it, so a
   * never-marked position adds no unrealised PnL and counts at its entry in exposure and margin (never NaN).
   */
  valuationPrice(i: number): number {
    const m = this.mark[i]!;
    return m === m ? m : this.entryPrice[i]!;
  }

  /** Equity at current marks (instruments never marked count at their entry price). */
  equity(): number {
    this.equityInto(this.scratch, 0);
    return this.scratch[0]!;
  }

  /** Writes {@link equity} into `out[k]` (no number crosses the call boundary boxed: for per-bar recording). */
  equityInto(out: Float64Array, k: number): void {
    let e = this.cash;
    const q = this.quantity, m = this.mark, p = this.entryPrice;
    for (let i = 0; i < q.length; i++) {
      const qi = q[i]!;
      const mi = m[i]!;
      if (qi !== 0 && mi === mi) e += qi * (mi - p[i]!); // never marked (NaN): valued at the entry, no unrealised PnL
    }
    out[k] = e;
  }

  /** Equity with instrument `i` marked at `price` instead of its mark. */
  equityAt(i: number, price: number): number {
    const q = this.quantity[i]!;
    return this.equity() + (q === 0 ? 0 : q * (price - this.valuationPrice(i)));
  }

  /** Σ |qty| × valuation price × maintenance margin rate, with instrument `i` at `price`. */
  maintenanceMargin(i = -1, price = 0): number {
    let mm = 0;
    for (let k = 0; k < this.quantity.length; k++) {
      const q = this.quantity[k]!;
      if (q !== 0) mm += Math.abs(q) * (k === i ? price : this.valuationPrice(k)) * this.maintenanceMarginRates[k]!;
    }
    return mm;
  }

  /** Σ |qty| × valuation price: gross exposure in quote currency. */
  grossExposure(): number {
    let g = 0;
    for (let k = 0; k < this.quantity.length; k++) {
      const q = this.quantity[k]!;
      if (q !== 0) g += Math.abs(q) * this.valuationPrice(k);
    }
    return g;
  }

  /**
   * Applies `fill` (a buy adds its quantity to the position, a sell takes it off) at its price paying its fee; returns
   * the realised PnL (before the fee). Reductions realise PnL against the average entry; a reversal closes then opens
   * the rest. Takes the fill, not its numbers: a double passed to a method V8 does not inline is boxed on the heap
   * (engine-fills: about 80 B a fill here and in {@link TradeTracker.onFill} together).
   */
  applyFill(fill: FillAmounts): number {
    const i = fill.instrument, price = fill.price, fee = fill.fee;
    const delta = fill.side === 'buy' ? fill.quantity : -fill.quantity;
    const q = this.quantity[i]!;
    let realized = 0;
    if (q === 0 || Math.sign(q) === Math.sign(delta)) {
      const next = q + delta;
      this.entryPrice[i] = (Math.abs(q) * this.entryPrice[i]! + Math.abs(delta) * price) / Math.abs(next);
      this.quantity[i] = next;
    } else {
      const closing = Math.min(Math.abs(delta), Math.abs(q));
      realized = closing * (price - this.entryPrice[i]!) * Math.sign(q);
      const next = q + delta;
      if (Math.abs(next) < 1e-12 * Math.max(1, Math.abs(q))) {
        // Flat up to float noise (e.g. 0.05 + 0.12 bought, 0.17 sold), also when |delta| exceeds |q| by an ulp.
        this.quantity[i] = 0;
        this.entryPrice[i] = 0;
      } else if (Math.abs(delta) > Math.abs(q)) {
        this.entryPrice[i] = price;
        this.quantity[i] = next;
      } else {
        this.quantity[i] = next;
      }
    }
    this.cash += realized - fee;
    this.version++;
    this.realized[i]! += realized;
    this.fees[i]! += fee;
    this.turnover[i]! += Math.abs(delta) * price;
    return realized;
  }

  save(): PortfolioState {
    return {
      cash: this.cash, quantity: [...this.quantity], entryPrice: [...this.entryPrice], mark: Array.from(this.mark, (m) => (Number.isNaN(m) ? null : m)),
      realized: [...this.realized], fees: [...this.fees], funding: [...this.funding], turnover: [...this.turnover],
    };
  }

  restore(state: PortfolioState): void {
    this.version++;
    this.cash = state.cash;
    this.quantity.set(state.quantity);
    this.entryPrice.set(state.entryPrice);
    this.mark.set(state.mark.map((m) => (m === null ? NaN : m)));
    this.realized.set(state.realized);
    this.fees.set(state.fees);
    this.funding.set(state.funding);
    this.turnover.set(state.turnover);
  }

  /** Books a funding payment (positive = paid by the account). */
  applyFunding(i: number, payment: number): void {
    this.cash -= payment;
    this.funding[i]! += payment;
    this.version++;
  }
}
