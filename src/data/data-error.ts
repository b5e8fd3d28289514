import { AppError } from '../core/app-error.js';

/** Codes of every expected failure in the data layer. */
export type DataErrorCode =
  | 'io'
  | 'unknown_file_kind'
  | 'empty_file'
  | 'missing_column'
  | 'unknown_column'
  | 'malformed_row'
  | 'invalid_value'
  | 'unsorted'
  | 'duplicate_timestamp'
  | 'wrong_timeframe'
  | 'not_found'
  | 'missing_bars'
  | 'store'
  /** Another process holds a conflicting lock on the store file; `context.pid` names it. */
  | 'locked';

/**
 * A data-layer failure. For bad input files, `context` holds `file`, `line` (1-based, the header is line 1)
 * and `problem`; the message reads `<file>:<line>: <problem>`.
 */
export class DataError extends AppError<DataErrorCode> {}

/** Builds the error for a bad row in `file` at 1-based `line`. */
export function fileError(code: DataErrorCode, file: string, line: number, problem: string, extra: Record<string, unknown> = {}): DataError {
  return new DataError(code, `${file}:${line}: ${problem}`, { file, line, problem, ...extra });
}
