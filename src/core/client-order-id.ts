import { AppError } from './app-error.js';
import { err, ok, type Result } from './result.js';

/**
 * Deterministic, restart-safe client order ids. The same decision (run, strategy, instrument, decision time,
 * sequence within that time) always yields the same id, so a restarted process re-issuing a decision produces an
 * id the venue (Bybit `orderLinkId`: at most 36 characters of `[A-Za-z0-9_-]`, unique) recognises as a duplicate.
 *
 * Layout: `<run>_<strategy>_<instrument>_<time>_<sequence>`, fields separated by `_`:
 * - run: 1–8 of `[A-Za-z0-9-]` (a runner name, or a hash of the experiment for backtests);
 * - strategy: 1–10 of `[A-Za-z0-9-]` ({@link strategyTag} makes one from any strategy name);
 * - instrument: the engine's instrument index in base 36;
 * - time: the decision time (engine time, epoch ms) in base 36 (8 digits until the year 2059);
 * - sequence: the order's number among the same strategy's orders for that instrument at that time, base 36, from 0.
 * Longest: 8 + 10 + 2 + 9 + 3 + 4 separators = 36.
 */
export interface ClientOrderIdParts {
  readonly run: string;
  readonly strategy: string;
  readonly instrument: number;
  readonly time: number;
  readonly sequence: number;
}

export type ClientOrderIdErrorCode = 'invalid_client_order_id';
export class ClientOrderIdError extends AppError<ClientOrderIdErrorCode> {}

/** The venue's rule for `orderLinkId` (Bybit v5), which every client order id obeys. */
export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{1,36}$/;
const RUN = /^[A-Za-z0-9-]{1,8}$/;
const STRATEGY = /^[A-Za-z0-9-]{1,10}$/;
const PARSE = /^([A-Za-z0-9-]{1,8})_([A-Za-z0-9-]{1,10})_([0-9a-z]{1,2})_([0-9a-z]{1,9})_([0-9a-z]{1,3})$/;

/**
 * Returns the id of `parts`.
 * @throws ClientOrderIdError `invalid_client_order_id` naming the field when a part does not fit the layout.
 * @example formatClientOrderId({ run: 'r1', strategy: 'sma', instrument: 0, time: 1_700_000_000_000, sequence: 0 }) // 'r1_sma_0_loyw3v28_0'
 */
export function formatClientOrderId(parts: ClientOrderIdParts): string {
  const { run, strategy, instrument, time, sequence } = parts;
  const bad = (field: string, rule: string, value: unknown) =>
    new ClientOrderIdError('invalid_client_order_id', `client order id: \`${field}\` must be ${rule}, was ${JSON.stringify(value)}`, { field, value });
  if (!RUN.test(run)) throw bad('run', '1-8 characters of [A-Za-z0-9-]', run);
  if (!STRATEGY.test(strategy)) throw bad('strategy', '1-10 characters of [A-Za-z0-9-]', strategy);
  if (!(Number.isInteger(instrument) && instrument >= 0 && instrument < 36 * 36)) throw bad('instrument', 'an integer in [0, 1296)', instrument);
  if (!(Number.isInteger(time) && time >= 0 && time < 36 ** 9)) throw bad('time', 'an integer epoch ms in [0, 36^9)', time);
  if (!(Number.isInteger(sequence) && sequence >= 0 && sequence < 36 ** 3)) throw bad('sequence', 'an integer in [0, 46656)', sequence);
  return `${run}_${strategy}_${instrument.toString(36)}_${time.toString(36)}_${sequence.toString(36)}`;
}

/** Parses an id made by {@link formatClientOrderId}; an id in any other form is an error naming it. */
export function parseClientOrderId(id: string): Result<ClientOrderIdParts, ClientOrderIdError> {
  const m = PARSE.exec(id);
  if (!m) {
    return err(new ClientOrderIdError('invalid_client_order_id', `client order id ${JSON.stringify(id)} is not <run>_<strategy>_<instrument>_<time>_<sequence>`, { id }));
  }
  return ok({ run: m[1]!, strategy: m[2]!, instrument: parseInt(m[3]!, 36), time: parseInt(m[4]!, 36), sequence: parseInt(m[5]!, 36) });
}

/**
 * A strategy field for ids from any name: the name itself when it is 1–10 of `[A-Za-z0-9-]`, else its first
 * characters (invalid ones dropped) followed by `-` and a 3-character hash of the whole name, so two long names
 * that share a prefix still differ.
 */
export function strategyTag(name: string): string {
  if (STRATEGY.test(name)) return name;
  const clean = name.replace(/[^A-Za-z0-9-]/g, '').slice(0, 6) || 's';
  return `${clean}-${hash36(name, 3)}`;
}

/** A run field from any text (e.g. an experiment name + config hash): up to 8 base-36 characters of an FNV-1a hash. */
export function runTag(text: string): string {
  return hash36(text, 8);
}

function hash36(text: string, length: number): string {
  let h = 0x811c9dc5;
  for (let k = 0; k < text.length; k++) {
    h ^= text.charCodeAt(k);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let h2 = 0x9e3779b9 ^ h;
  for (let k = text.length - 1; k >= 0; k--) {
    h2 ^= text.charCodeAt(k);
    h2 = Math.imul(h2, 0x01000193) >>> 0;
  }
  return (h.toString(36) + h2.toString(36)).padStart(length, '0').slice(0, length);
}

/**
 * Formats ids of one (run, strategy) without re-validating them per order: the hot-path form of
 * {@link formatClientOrderId} (same output).
 * @throws ClientOrderIdError at construction for a bad run or strategy field; from `format` for an out-of-range part.
 */
export class ClientOrderIdFormatter {
  /** `<run>_<strategy>_`: the start of every id {@link format} makes. */
  readonly prefix: string;
  /** `<prefix><instrument>_` per instrument, made on its first id. */
  private readonly heads: string[] = [];
  /**
   * Per instrument, the character codes of an id of the common form (see {@link flat}): its head's, then 8 time
   * digits, `_` and one sequence digit, rewritten for each id.
   */
  private readonly codes: number[][] = [];
  /** The time of {@link lastTimeText} (a typed cell: storing a time never boxes it). */
  private readonly lastTime = new Float64Array([NaN]);
  private lastTimeText = '';
  constructor(readonly run: string, readonly strategy: string) {
    formatClientOrderId({ run, strategy, instrument: 0, time: 0, sequence: 0 });
    this.prefix = `${run}_${strategy}_`;
  }
  /** Whether `id` is in this run's and strategy's id space (starts with `<run>_<strategy>_`): one {@link format} may make. */
  owns(id: string): boolean {
    return id.startsWith(this.prefix);
  }
  format(instrument: number, time: number, sequence: number): string {
    if (!(instrument >= 0 && instrument < 1296 && time >= 0 && time < 36 ** 9 && sequence >= 0 && sequence < 46656 && Number.isInteger(time))) {
      return formatClientOrderId({ run: this.run, strategy: this.strategy, instrument, time, sequence }); // throws naming the field
    }
    if (time >= B36_7 && time < B36_8 && sequence < 36) return this.flat(instrument, time, sequence);
    // The same string, in three pieces kept between calls: `<prefix><instrument>_` per instrument, `<time>_` for the
    // last decision time (every instrument's orders at one bar close share it), and the sequence.
    const head = this.heads[instrument] ?? (this.heads[instrument] = this.head(instrument));
    if (time !== this.lastTime[0]) {
      this.lastTime[0] = time;
      this.lastTimeText = base36(time) + '_';
    }
    return head + this.lastTimeText + (DIGITS36[sequence] ?? sequence.toString(36));
  }

  private head(instrument: number): string {
    return this.prefix + instrument.toString(36) + '_';
  }

  /**
   * The id of a decision time with 8 base-36 digits (1972-06-25 to 2059-05-25) and a sequence below 36 (every id of
   * a backtest or live run in practice), made as one flat string from its character codes. Joined from its pieces
   * (`+`), an id is a rope that is copied flat on its first comparison or hashing (the venue's duplicate check, a
   * live venue's request), and the digits of its time take two number-to-string conversions and three more strings:
   * together about 250 ns an id more than this (engine-fills makes 14,751 ids a run).
   */
  private flat(instrument: number, time: number, sequence: number): string {
    let codes = this.codes[instrument];
    if (codes === undefined) {
      const head = this.head(instrument);
      codes = Array.from({ length: head.length + 10 }, (_, k) => (k < head.length ? head.charCodeAt(k) : 0));
      codes[head.length + 8] = UNDERSCORE;
      this.codes[instrument] = codes;
    }
    const n = codes.length - 10;
    const high = Math.floor(time / B36_4), low = time - high * B36_4; // each < 36^4: 4 digits
    codes[n] = DIGIT_CODES[Math.floor(high / 46656)]!;
    codes[n + 1] = DIGIT_CODES[Math.floor(high / 1296) % 36]!;
    codes[n + 2] = DIGIT_CODES[Math.floor(high / 36) % 36]!;
    codes[n + 3] = DIGIT_CODES[high % 36]!;
    codes[n + 4] = DIGIT_CODES[Math.floor(low / 46656)]!;
    codes[n + 5] = DIGIT_CODES[Math.floor(low / 1296) % 36]!;
    codes[n + 6] = DIGIT_CODES[Math.floor(low / 36) % 36]!;
    codes[n + 7] = DIGIT_CODES[low % 36]!;
    codes[n + 9] = DIGIT_CODES[sequence]!;
    return String.fromCharCode.apply(null, codes);
  }
}

const B36_4 = 36 ** 4, B36_7 = 36 ** 7, B36_8 = 36 ** 8;
const UNDERSCORE = 95;
/** The character code of base-36 digit k. */
const DIGIT_CODES = Array.from({ length: 36 }, (_, k) => k.toString(36).charCodeAt(0));

/** `k.toString(36)` for k < 36. */
const DIGITS36 = Array.from({ length: 36 }, (_, k) => k.toString(36));

const B36_5 = 36 ** 5;
/** `n.toString(36)` for a non-negative integer, 3–4× faster for epoch ms: two small-integer conversions instead of one of a double. */
function base36(n: number): string {
  if (n < B36_5) return n.toString(36);
  const high = Math.floor(n / B36_5);
  return high.toString(36) + (n - high * B36_5 + B36_5).toString(36).slice(1);
}
