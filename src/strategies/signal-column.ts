import { z } from 'zod';
import { AppError } from '../core/app-error.js';
import type { Strategy } from '../engine/strategy.js';
import { directionOf, moveToDirection, parseStrategyParams } from './shared.js';

/** Params of {@link signalColumn}. */
export const SignalColumnParams = z
  .object({
    /** Name of the precomputed per-bar column to trade (an experiment's `columns` entry). */
    column: z.string().min(1).default('signal'),
    /** Long when signal > threshold, short when signal < -threshold, flat otherwise. */
    threshold: z.number().min(0).default(0),
    /** Position size per instrument as a fraction of equity at entry (0.3 = 30 %). */
    allocation: z.number().gt(0).max(10).default(0.3),
    /** When false, a signal below -threshold means flat instead of short (spot). */
    allowShort: z.boolean().default(true),
    /**
     * Holding policy matching the signal's horizon: `tranches` = N splits the allocation into N overlapping tranches
     * of allocation / N, one re-decided per bar in turn and so held for N bars (set N to the label horizon, e.g. 6 for
     * a 6-bar forecast). 1 (default) = one position re-decided every bar.
     */
    holding: z
      .object({ tranches: z.number().int().min(1).max(1000).default(1) })
      .strict()
      .prefault({}),
  })
  .strict();
export type SignalColumnParams = z.output<typeof SignalColumnParams>;

/**
 * Returns a strategy trading a precomputed signal column: at each bar close, long when `signal > threshold`, short
 * when `signal < -threshold`, flat otherwise (a NaN signal, e.g. missing or warming up, means flat). It trades only
 * when the wanted direction changes, sized `allocation × equity / close` (filled at the next open).
 *
 * With `holding.tranches` = N > 1 the position is N overlapping tranches (Jegadeesh–Titman style): at the close of
 * the instrument's k-th bar (k = 0, 1, ...) only tranche k mod N is re-decided. When its wanted direction is
 * unchanged it is kept as it is (rolled over, no order); otherwise it becomes direction × (allocation / N) × equity
 * / close base units (rounded down to the lot), 0 when flat. The target is the sum of the tranches and one market
 * order moves the position to it (netting: opposite tranches cancel). Each decision is thus held N bars: a 6-bar
 * forecast is not re-traded every bar, and the position changes only when a tranche changes direction.
 * The column is read from the strategy's history, so only values up to the current bar are visible.
 * @throws AppError `invalid_strategy_params` naming the parameter and value; `missing_column` at start when the
 * experiment provides no such column.
 * @example signalColumn({ threshold: 0.05, allocation: 0.3 })
 */
export function signalColumn(params: unknown): Strategy {
  const { column, threshold, allocation, allowShort, holding } = parseStrategyParams('signal-column', SignalColumnParams, params);
  const tranches = holding.tranches;
  let book: TrancheBook[] = [];
  return {
    name: 'signal-column',
    onStart(ctx) {
      for (let i = 0; i < ctx.instruments.length; i++) {
        if (!(column in ctx.history(i).columns)) {
          throw new AppError('missing_column', `strategy signal-column: column ${JSON.stringify(column)} is not provided; add it to the experiment's \`columns\` (a prediction model or a feature)`, { column });
        }
      }
      book = ctx.instruments.map(() => new TrancheBook(tranches));
    },
    onBar(ctx, bar) {
      const i = bar.instrument;
      if (ctx.openOrderCount(i) > 0) return;
      const signal = ctx.history(i).columns[column]![bar.index]!;
      const wanted = signal > threshold ? 1 : signal < -threshold ? (allowShort ? -1 : 0) : 0;
      if (tranches === 1) {
        if (wanted !== directionOf(ctx.position(i))) moveToDirection(ctx, i, wanted, allocation, bar.close);
        return;
      }
      const target = book[i]!.decide(wanted, wanted === 0 ? 0 : ctx.roundQuantity(i, (allocation / tranches) * ctx.equity() / bar.close));
      const delta = target - ctx.position(i);
      const quantity = ctx.roundQuantity(i, Math.abs(delta));
      if (quantity > 0) ctx.submitOrder({ instrument: i, side: delta > 0 ? 'buy' : 'sell', type: 'market', quantity });
    },
  };
}

/**
 * The N overlapping tranches of one instrument (see {@link signalColumn}): tranche `k mod N` is re-decided at the
 * k-th call; an unchanged direction keeps the tranche's quantity (rolled over).
 */
export class TrancheBook {
  /** Signed quantity of each tranche, base units. */
  private readonly quantity: Float64Array;
  private readonly direction: Int8Array;
  private next = 0;

  constructor(tranches: number) {
    this.quantity = new Float64Array(tranches);
    this.direction = new Int8Array(tranches);
  }

  /**
   * Re-decides the next tranche: direction `wanted` (1, −1, 0) with `size` base units (>= 0) when the direction
   * changes, kept otherwise. Returns the target position, the sum of the tranches.
   */
  decide(wanted: number, size: number): number {
    const k = this.next;
    this.next = k + 1 === this.quantity.length ? 0 : k + 1;
    if (wanted !== this.direction[k]) {
      this.direction[k] = wanted;
      this.quantity[k] = wanted * size;
    }
    let sum = 0;
    for (let j = 0; j < this.quantity.length; j++) sum += this.quantity[j]!;
    return sum;
  }
}
