import type { Strategy } from '../engine/strategy.js';
import { TrainingError } from './training-error.js';

/** Parameters of {@link signalStrategy}. */
export interface SignalStrategyParams {
  /** Name of the per-bar column holding the model's prediction (a `BacktestSpec.columns` entry). */
  readonly column: string;
  /** Long when prediction > threshold, short when prediction < -threshold, flat otherwise (and on NaN). */
  readonly threshold: number;
  /** Position notional per instrument as a fraction of equity at entry (1 = equity, 0.33 = a third). */
  readonly allocation: number;
}

/**
 * Returns the long/short/flat strategy the walk-forward evaluates a model with: at each bar close it reads the
 * model's prediction for that bar from its history column and, when the wanted direction (sign of the prediction
 * beyond ±threshold) differs from the position's, sends one market order to move there, sized
 * `allocation × equity / close` (floored to the lot size), filled at the next bar's open by the engine (fees,
 * slippage and funding are the backtest's). It sees only predictions up to the current bar.
 * @throws TrainingError `invalid_argument` for a negative threshold or a non-positive allocation; `invalid_argument` at
 * start when the run provides no such column.
 * @example runBacktest({ ...spec, columns: { signal: [predictions] } }, signalStrategy({ column: 'signal', threshold: 0, allocation: 1 }));
 */
export function signalStrategy(params: SignalStrategyParams): Strategy {
  const { column, threshold, allocation } = params;
  if (!(threshold >= 0)) throw new TrainingError('invalid_argument', `signal strategy \`threshold\` must be >= 0, was ${threshold}`, { threshold });
  if (!(allocation > 0)) throw new TrainingError('invalid_argument', `signal strategy \`allocation\` must be > 0, was ${allocation}`, { allocation });
  return {
    name: 'ml-signal',
    onStart(ctx) {
      for (let i = 0; i < ctx.instruments.length; i++) {
        if (!(column in ctx.history(i).columns)) {
          throw new TrainingError('invalid_argument', `signal strategy: column ${JSON.stringify(column)} is not provided by the backtest`, { column });
        }
      }
    },
    onBar(ctx, bar) {
      const i = bar.instrument;
      if (ctx.openOrderCount(i) > 0) return;
      const signal = ctx.history(i).columns[column]![bar.index]!;
      const wanted = signal > threshold ? 1 : signal < -threshold ? -1 : 0;
      const position = ctx.position(i);
      const current = position > 0 ? 1 : position < 0 ? -1 : 0;
      if (wanted === current) return;
      const size = wanted === 0 ? 0 : ctx.roundQuantity(i, (allocation * ctx.equity()) / bar.close);
      const delta = wanted * size - position;
      const quantity = ctx.roundQuantity(i, Math.abs(delta));
      if (quantity > 0) ctx.submitOrder({ instrument: i, side: delta > 0 ? 'buy' : 'sell', type: 'market', quantity });
    },
  };
}
