import { AppError } from '../core/app-error.js';

/**
 * Error codes of `sizing/`:
 * - `invalid_input`: a value handed to a sizing function breaks its rule (non-finite edge, variance <= 0,
 *   price <= 0, non-finite equity or close, probabilities and labels of different lengths, ...);
 * - `invalid_config`: a {@link RiskConfig} value does not fit the schema (see `context.issues`).
 */
export type SizingErrorCode = 'invalid_input' | 'invalid_config';

/** Error thrown (or returned, for config) by `sizing/`; `context` names the parameter and the value involved. */
export class SizingError extends AppError<SizingErrorCode> {}

/** Throws {@link SizingError} `invalid_input` naming `parameter`, the `rule` and the actual `value`. @internal */
export function invalidInput(parameter: string, rule: string, value: unknown): never {
  throw new SizingError('invalid_input', `\`${parameter}\` must ${rule}, was ${String(value)}`, { parameter, value });
}
