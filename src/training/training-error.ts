import { AppError } from '../core/app-error.js';

/**
 * Codes of training failures: a bad argument to a statistic or selector, a training config that does not fit its
 * schema, input data that cannot be trained on (misaligned symbols, too few rows for a fold), or a fold without rows.
 */
export type TrainingErrorCode = 'invalid_argument' | 'invalid_config' | 'insufficient_data' | 'misaligned_data';

/** A training run that cannot go on; `context` names the offending value. */
export class TrainingError extends AppError<TrainingErrorCode> {}
