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
  })
  .strict();
export type SignalColumnParams = z.output<typeof SignalColumnParams>;

/**
 * Returns a strategy trading a precomputed signal column: at each bar close, long when `signal > threshold`, short
 * when `signal < -threshold`, flat otherwise (a NaN signal, e.g. missing or warming up, means flat). It trades only
 * when the wanted direction changes, sized `allocation × equity / close` (filled at the next open).
 * The column is read from the strategy's history, so only values up to the current bar are visible.
 * @throws AppError `invalid_strategy_params` naming the parameter and value; `missing_column` at start when the
 * experiment provides no such column.
 * @example signalColumn({ threshold: 0.05, allocation: 0.3 })
 */
export function signalColumn(params: unknown): Strategy {
  const { column, threshold, allocation, allowShort } = parseStrategyParams('signal-column', SignalColumnParams, params);
  return {
    name: 'signal-column',
    onStart(ctx) {
      for (let i = 0; i < ctx.instruments.length; i++) {
        if (!(column in ctx.history(i).columns)) {
          throw new AppError('missing_column', `strategy signal-column: column ${JSON.stringify(column)} is not provided; add it to the experiment's \`columns\` (a prediction model or a feature)`, { column });
        }
      }
    },
    onBar(ctx, bar) {
      const i = bar.instrument;
      if (ctx.openOrderCount(i) > 0) return;
      const signal = ctx.history(i).columns[column]![bar.index]!;
      const wanted = signal > threshold ? 1 : signal < -threshold ? (allowShort ? -1 : 0) : 0;
      if (wanted !== directionOf(ctx.position(i))) moveToDirection(ctx, i, wanted, allocation, bar.close);
    },
  };
}
