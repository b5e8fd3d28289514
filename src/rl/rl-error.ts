import { AppError } from '../core/app-error.js';

/**
 * Error codes of `rl/`:
 * - `invalid_config`: a {@link SacConfig} value does not fit the schema (see `context.issues`);
 * - `invalid_input`: a value handed to an rl function breaks its rule (wrong observation length, non-finite reward, ...);
 * - `invalid_model`: an exported actor cannot be read back (missing initializer, wrong shape or metadata).
 */
export type RlErrorCode = 'invalid_config' | 'invalid_input' | 'invalid_model';

/** Error thrown (or returned, for config) by `rl/`; `context` names the parameter and the value involved. */
export class RlError extends AppError<RlErrorCode> {}

/** Throws {@link RlError} `invalid_input` naming `parameter`, the `rule` and the actual `value`. @internal */
export function invalidRlInput(parameter: string, rule: string, value: unknown): never {
  throw new RlError('invalid_input', `\`${parameter}\` must ${rule}, was ${String(value)}`, { parameter, value });
}
