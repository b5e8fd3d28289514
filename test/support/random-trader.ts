import { seededRandom, type Random } from '../../src/core/random.js';
import type { BarEvent, Strategy, StrategyContext } from '../../src/engine/strategy.js';

/** How often and how big the {@link randomTrader} trades. */
export interface RandomTraderOptions {
  /** Order size: equity × (1 + size × U) / close. */
  readonly size: number;
  /** Probability of a market order per bar and instrument. */
  readonly market: number;
  /** Probability of a market or a limit order (the limit's share is `limit − market`). */
  readonly limit: number;
  /** Limit distance from the close: (U − 0.3) × away (negative: marketable on arrival). */
  readonly away: number;
  /** Round limit prices to cents. */
  readonly roundPrice: boolean;
  /** Probability of canceling one open order of the instrument. */
  readonly cancel: number;
}

/**
 * Each bar, per instrument: maybe a market order, a limit (GTC/IOC/FOK, post-only, reduce-only) near the close, a
 * cancel. Seeded; restarts its sequence at `onStart`, so two runs of one trader see the same draws.
 */
export function randomTrader(seed: number, o: RandomTraderOptions): Strategy {
  let random: Random = seededRandom(seed);
  return {
    name: 'random',
    onStart() {
      random = seededRandom(seed);
    },
    onBar(ctx: StrategyContext, bar: BarEvent) {
      const i = bar.instrument;
      const side = random() < 0.5 ? 'buy' : 'sell';
      const quantity = ctx.roundQuantity(i, (ctx.equity() * (1 + o.size * random())) / bar.close);
      const u = random();
      if (quantity > 0 && u < o.market) ctx.submitOrder({ instrument: i, side, type: 'market', quantity, reduceOnly: random() < 0.2 });
      else if (quantity > 0 && u < o.limit) {
        const away = (random() - 0.3) * o.away;
        const raw = bar.close * (side === 'buy' ? 1 - away : 1 + away);
        const price = o.roundPrice ? Math.round(raw * 100) / 100 : raw;
        const r = random();
        const timeInForce = r < 0.7 ? 'GTC' : r < 0.85 ? 'IOC' : 'FOK';
        ctx.submitOrder({ instrument: i, side, type: 'limit', price, quantity, timeInForce, postOnly: timeInForce === 'GTC' && random() < 0.3, reduceOnly: random() < 0.15 });
      }
      if (ctx.openOrderCount(i) > 0 && random() < o.cancel) {
        const orders = ctx.openOrders(i);
        ctx.cancelOrder(orders[Math.floor(random() * orders.length)]!.clientOrderId);
      }
    },
  };
}
