/**
 * Helpers shared by the experiment strategies: parameter validation and moving a position to a target direction.
 * Strategy code imports only src/core, src/engine (and features, sizing, models): never backtest, live or adapters.
 */
import type { z } from 'zod';
import { AppError } from '../core/app-error.js';
import type { StrategyContext } from '../engine/strategy.js';

/**
 * Parses `params` with a strategy's schema.
 * @throws AppError `invalid_strategy_params` whose context names the strategy, the JSON path (`$.params.<key>`) and the problem.
 */
export function parseStrategyParams<S extends z.ZodType>(strategy: string, schema: S, params: unknown): z.output<S> {
  const parsed = schema.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const keys = [...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])].map(String);
  const path = ['$', 'params', ...keys].join('.');
  let actual: unknown = params;
  for (const k of keys) actual = actual !== null && typeof actual === 'object' ? (actual as Record<string, unknown>)[k] : undefined;
  const problem = issue.code === 'unrecognized_keys' ? `unknown parameter ${JSON.stringify(keys.at(-1))} of strategy ${strategy}` : `${issue.message}, was ${actual === undefined ? 'missing' : JSON.stringify(actual)}`;
  throw new AppError('invalid_strategy_params', `strategy ${strategy}: ${path}: ${problem}`, { strategy, path, problem });
}

/** Direction of a signed position: 1 long, -1 short, 0 flat. */
export function directionOf(position: number): number {
  return position > 0 ? 1 : position < 0 ? -1 : 0;
}

/**
 * Submits a market order moving instrument `i` to `direction` × (allocation × equity / close) base units (floored
 * to the lot size). Does nothing when the target rounds to the current position.
 */
export function moveToDirection(ctx: StrategyContext, i: number, direction: number, allocation: number, close: number): void {
  const size = direction === 0 ? 0 : ctx.roundQuantity(i, (allocation * ctx.equity()) / close);
  const delta = direction * size - ctx.position(i);
  const quantity = ctx.roundQuantity(i, Math.abs(delta));
  if (quantity > 0) ctx.submitOrder({ instrument: i, side: delta > 0 ? 'buy' : 'sell', type: 'market', quantity });
}
