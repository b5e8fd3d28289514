import { AppError } from '../core/app-error.js';

/**
 * Error codes of `regime/`:
 * - `invalid_model`: model parameters break a rule (row not on the simplex, omega <= 0, alpha + beta >= 1, ...);
 * - `invalid_input`: a return series or option breaks a rule (non-finite return, too few bars, states < 1, ...);
 * - `filter_degenerate`: the filter met a bar that every state gives zero likelihood (probabilities undefined);
 * - `fit_failed`: no start of a fit reached a finite log-likelihood;
 * - `degenerate`: a fit's diagnostics found a degenerate state (a constraint binding, a state hardly ever occupied, a
 *   Hessian that is not positive definite); `context.parameter` names the first such parameter.
 */
export type RegimeErrorCode = 'invalid_model' | 'invalid_input' | 'filter_degenerate' | 'fit_failed' | 'degenerate';

/** Error thrown by `regime/`; `context` names the parameter and the value involved. */
export class RegimeError extends AppError<RegimeErrorCode> {}
