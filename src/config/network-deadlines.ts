import { z } from 'zod';
import { AppError } from '../core/app-error.js';

/**
 * Environment variables that override the network deadlines (milliseconds, positive integers). One place for every
 * remote peer: MLflow (axios), S3/MinIO (@aws-sdk/client-s3), Redis (ioredis) and the exchange (ccxt).
 */
export const DEADLINE_ENV = Object.freeze({
  connectMs: 'TM_CONNECT_TIMEOUT_MS',
  mlflowMs: 'TM_MLFLOW_TIMEOUT_MS',
  s3Ms: 'TM_S3_TIMEOUT_MS',
  redisCommandMs: 'TM_REDIS_COMMAND_TIMEOUT_MS',
  exchangeMs: 'TM_EXCHANGE_TIMEOUT_MS',
  modelTierBudgetMs: 'TM_MODEL_TIER_BUDGET_MS',
});

const Ms = z.number().int().min(1).max(600_000);

/**
 * Deadlines of every network call, ms. Defaults are declared here only.
 * - `connectMs`: TCP (+TLS) connect, every peer;
 * - `mlflowMs`: one MLflow request, connect to last byte (a hung server is reported as a timeout after this);
 * - `s3Ms`: one S3 request (each SDK attempt), connect to last byte of the body;
 * - `redisCommandMs`: one Redis command;
 * - `exchangeMs`: one exchange REST request (ccxt `timeout`);
 * - `modelTierBudgetMs`: total time the model loader gives one remote tier (alias, run, s3: all of its requests and
 *   retries) before it moves on to the next tier.
 */
export const NetworkDeadlines = z
  .object({
    connectMs: Ms.default(2_000),
    mlflowMs: Ms.default(5_000),
    s3Ms: Ms.default(5_000),
    redisCommandMs: Ms.default(2_000),
    exchangeMs: Ms.default(10_000),
    modelTierBudgetMs: Ms.default(5_000),
  })
  .strict();
export type NetworkDeadlines = Readonly<z.infer<typeof NetworkDeadlines>>;

/** The built-in deadlines (no environment overrides). */
export const DEFAULT_DEADLINES: NetworkDeadlines = Object.freeze(NetworkDeadlines.parse({}));

/** A deadline variable that is not a positive integer of milliseconds. */
export class DeadlineConfigError extends AppError<'invalid_config'> {}

/**
 * Deadlines from the environment ({@link DEADLINE_ENV}); unset variables keep the defaults.
 * @throws DeadlineConfigError naming the variable and the value when one is not an integer in [1, 600000].
 */
export function networkDeadlinesFromEnv(env: Readonly<Record<string, string | undefined>>): NetworkDeadlines {
  const raw: Record<string, number> = {};
  for (const [key, name] of Object.entries(DEADLINE_ENV)) {
    const text = env[name]?.trim();
    if (text === undefined || text === '') continue;
    const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Ms.safeParse(value).success) {
      throw new DeadlineConfigError('invalid_config', `${name} must be an integer number of milliseconds in [1, 600000], was ${JSON.stringify(text)}`, { variable: name, value: text });
    }
    raw[key] = value;
  }
  return Object.freeze(NetworkDeadlines.parse(raw));
}

/**
 * ioredis options bounding every wait: connect within `connectMs`, each command within `redisCommandMs`, a few
 * reconnect attempts and no offline queue (a command while disconnected fails at once instead of waiting).
 * Spread them into `new Redis({ host, port, ...redisDeadlineOptions(d) })`.
 */
export function redisDeadlineOptions(d: NetworkDeadlines): { connectTimeout: number; commandTimeout: number; maxRetriesPerRequest: number; enableOfflineQueue: boolean; retryStrategy: (times: number) => number | null } {
  return {
    connectTimeout: d.connectMs,
    commandTimeout: d.redisCommandMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times) => (times > 3 ? null : Math.min(times * 200, 1_000)),
  };
}
