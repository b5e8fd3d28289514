import { z } from 'zod';
import type { Strategy } from '../engine/strategy.js';
import { directionOf, moveToDirection, parseStrategyParams } from './shared.js';

/** Params of {@link smaCrossover}. */
export const SmaCrossoverParams = z
  .object({
    /** Bars in the fast simple moving average of closes. */
    fast: z.number().int().min(1).default(20),
    /** Bars in the slow simple moving average; must exceed `fast`. */
    slow: z.number().int().min(2).default(100),
    /** Position size per instrument as a fraction of equity at entry (0.3 = 30 %). */
    allocation: z.number().gt(0).max(10).default(0.3),
    /** Go short when fast < slow (otherwise flat). */
    allowShort: z.boolean().default(false),
  })
  .strict()
  .refine((p) => p.slow > p.fast, { message: 'must be greater than fast', path: ['slow'] });
export type SmaCrossoverParams = z.output<typeof SmaCrossoverParams>;

/**
 * Returns a moving-average crossover strategy: per instrument, long when the `fast`-bar SMA of closes is above the
 * `slow`-bar SMA, short (or flat unless `allowShort`) when below, unchanged when equal. It trades only when the
 * wanted direction changes, with a market order sized `allocation × equity / close` (filled at the next open).
 * @throws AppError `invalid_strategy_params` naming the parameter and value.
 * @example smaCrossover({ fast: 20, slow: 100, allocation: 0.3, allowShort: true })
 */
export function smaCrossover(params: unknown): Strategy {
  const { fast, slow, allocation, allowShort } = parseStrategyParams('sma-crossover', SmaCrossoverParams, params);
  return {
    name: 'sma-crossover',
    warmupBars: slow - 1,
    onBar(ctx, bar) {
      const k = bar.index;
      if (k + 1 < slow) return;
      const i = bar.instrument;
      if (ctx.openOrderCount(i) > 0) return;
      const close = ctx.history(i).close;
      let sumFast = 0;
      let sumSlow = 0;
      for (let j = k - slow + 1; j <= k; j++) {
        const c = close[j]!;
        sumSlow += c;
        if (j > k - fast) sumFast += c;
      }
      const fastMean = sumFast / fast;
      const slowMean = sumSlow / slow;
      const current = directionOf(ctx.position(i));
      const wanted = fastMean > slowMean ? 1 : fastMean < slowMean ? (allowShort ? -1 : 0) : current;
      if (wanted !== current) moveToDirection(ctx, i, wanted, allocation, bar.close);
    },
  };
}
