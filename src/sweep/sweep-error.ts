import { AppError } from '../core/app-error.js';

/**
 * Codes of sweep failures: a sweep file that cannot be used (`io`, `invalid_json`, `invalid_config`), a trial whose
 * configuration hash differs from the one it was queued with (`hash_mismatch`: the worker runs other code or schema
 * defaults than the machine that queued it), a sweep id the queue or store does not know (`not_found`), a results
 * store problem (`store`), a trial job that failed in a worker (`trial_failed`, message = the job's error), a pool child that died mid-job
 * (`worker_exited`), a queue that cannot be reached (`unreachable`), a trial result object that cannot be written or
 * read (`object_store`), a stored result that is not what its worker wrote (`corrupt_result`) and a sweep not in a
 * state for what was asked (`invalid_state`: e.g. removing one that is running or not collected).
 */
export type SweepErrorCode = 'io' | 'invalid_json' | 'invalid_config' | 'hash_mismatch' | 'not_found' | 'store' | 'trial_failed' | 'worker_exited' | 'unreachable' | 'object_store' | 'corrupt_result' | 'invalid_state';

/** A sweep that cannot go on; `context` names the file, path or sweep id involved. */
export class SweepError extends AppError<SweepErrorCode> {}
