import { z } from 'zod';
import type { Strategy } from '../engine/strategy.js';
import { parseStrategyParams } from './shared.js';

/** Params of {@link buyAndHold}. */
export const BuyAndHoldParams = z
  .object({
    /** Fraction of equity bought of each instrument on its first bar (0.3 = 30 %). */
    allocation: z.number().gt(0).max(10).default(0.3),
  })
  .strict();
export type BuyAndHoldParams = z.output<typeof BuyAndHoldParams>;

/**
 * Returns a strategy that buys `allocation × equity / close` of every instrument at the close of its first bar
 * (filled at the next open) and holds to the end.
 * @throws AppError `invalid_strategy_params` naming the parameter and value.
 * @example buyAndHold({ allocation: 0.3 })
 */
export function buyAndHold(params: unknown): Strategy {
  const { allocation } = parseStrategyParams('buy-and-hold', BuyAndHoldParams, params);
  return {
    name: 'buy-and-hold',
    onBar(ctx, bar) {
      if (bar.index !== 0) return;
      const quantity = ctx.roundQuantity(bar.instrument, (allocation * ctx.equity()) / bar.close);
      if (quantity > 0) ctx.submitOrder({ instrument: bar.instrument, side: 'buy', type: 'market', quantity });
    },
  };
}
