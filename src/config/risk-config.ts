import { z } from 'zod';

/**
 * Pre-trade risk limits of an experiment or live run (the engine's `RiskLimits`; see src/engine/risk/). Every limit
 * is optional and absent means unbounded, except `maxDrawdown`: the rule of the system we emulate, 5 % from peak
 * equity, applies whenever a `risk` section is present (`null` turns it off). Money in quote currency (USDT).
 */
export const RiskConfig = z
  .object({
    /** Max notional of one order (quantity × limit price; market orders × mark). */
    maxOrderNotional: z.number().finite().positive().optional(),
    /** Max notional of one instrument for an order that adds exposure: |position| × mark + working orders + the order. */
    maxInstrumentNotional: z.number().finite().positive().optional(),
    /** Max gross exposure / equity after an order that adds exposure. */
    maxLeverage: z.number().finite().positive().max(1000).optional(),
    /** Max loss of a UTC day as a fraction of the equity at the day's first bar (0.03 = 3 %): beyond it, REDUCING until the next UTC day. */
    maxDailyLoss: z.number().gt(0).max(1).optional(),
    /** Max drawdown from peak equity as a fraction: beyond it every position is flattened and the state goes to `drawdownState`. */
    maxDrawdown: z.number().gt(0).max(1).nullable().default(0.05),
    /** State after a drawdown flatten (REDUCING: only reducing orders pass; HALTED: nothing but cancels). */
    drawdownState: z.enum(['REDUCING', 'HALTED']).default('REDUCING'),
    /** At most `maxOrders` orders per rolling window of `windowMs` engine milliseconds. */
    throttle: z.object({ maxOrders: z.number().int().min(1).max(1_000_000), windowMs: z.number().int().min(1) }).strict().optional(),
  })
  .strict();

export type RiskConfig = z.output<typeof RiskConfig>;
