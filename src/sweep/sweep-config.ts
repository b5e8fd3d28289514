import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { deepFreeze, describeConfigIssue } from '../core/config-issues.js';
import { seededRandom } from '../core/random.js';
import { err, ok, type Result } from '../core/result.js';
import { trialConfigHash } from '../training/trial-ledger.js';
import { SweepError } from './sweep-error.js';

const KEBAB = /^[a-z0-9][a-z0-9-]*$/;
/** A dotted key path into the experiment JSON, e.g. `params.fast` or `data.timeframe` (checked on the whole config, so the message names the key). */
const PARAM_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
const ParamPath = z.string();
const JsonValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.lazy(() => JsonValue)), z.record(z.string(), z.lazy(() => JsonValue))]);

/** A grid axis: every listed value is tried. */
const GridAxis = z.array(JsonValue).min(1, { message: 'must list >= 1 value' });

/** A random-search distribution of one parameter. */
const Distribution = z.discriminatedUnion('kind', [
  /** Integers in [min, max], uniform. */
  z.object({ kind: z.literal('int'), min: z.number().int(), max: z.number().int() }).strict().refine((d) => d.max >= d.min, { message: 'max must be >= min', path: ['max'] }),
  /** Reals in [min, max), uniform. */
  z.object({ kind: z.literal('uniform'), min: z.number(), max: z.number() }).strict().refine((d) => d.max > d.min, { message: 'max must be > min', path: ['max'] }),
  /** Reals in [min, max), uniform in log space (min > 0). */
  z.object({ kind: z.literal('log-uniform'), min: z.number().gt(0), max: z.number() }).strict().refine((d) => d.max > d.min, { message: 'max must be > min', path: ['max'] }),
  /** One of the listed values, each equally likely. */
  z.object({ kind: z.literal('choice'), values: z.array(JsonValue).min(1) }).strict(),
]);

const Search = z.discriminatedUnion('kind', [
  /** Cartesian product of the axes, the first axis varying slowest (declaration order). */
  z.object({ kind: z.literal('grid'), params: z.record(ParamPath, GridAxis) }).strict(),
  /** `trials` draws of every parameter from its distribution with a seeded generator (mulberry32); repeats are dropped. */
  z.object({ kind: z.literal('random'), trials: z.number().int().min(1).max(100_000), seed: z.number().int(), params: z.record(ParamPath, Distribution) }).strict(),
]);

/** Objective metrics a sweep can rank its trials by (fields of the backtest metrics, higher is better). */
export const OBJECTIVES = ['sharpe', 'sortino', 'totalReturn', 'cagr', 'calmar'] as const;

/**
 * A parameter sweep: a base experiment (a `tm backtest` file) plus a grid or a seeded random search over named
 * parameters of it (strategy params, data, risk, any key of the experiment), what to rank trials by, how to estimate
 * overfitting (PBO blocks), and the retry policy of a trial job.
 */
export const SweepConfig = z
  .object({
    name: z.string().regex(KEBAB, { message: 'must be kebab-case like sma-grid' }),
    description: z.string().default(''),
    /** Experiment file the trials start from, relative to the sweep file. */
    base: z.string().min(1),
    search: Search,
    /** Metric ranking the trials (the best one is reported, its Deflated Sharpe Ratio and the PBO of the selection). */
    objective: z.enum(OBJECTIVES).default('sharpe'),
    /** Probability of Backtest Overfitting over the trials' per-bar returns: `blocks` (even, >= 2) contiguous blocks. */
    pbo: z.object({ blocks: z.number().int().min(2).max(20).refine((b) => b % 2 === 0, { message: 'must be even' }).default(8) }).strict().default({ blocks: 8 }),
    /** A trial that throws is retried up to `attempts` times in all, waiting backoffMs × 2^(attempt-1) between attempts. */
    retry: z.object({ attempts: z.number().int().min(1).max(20).default(3), backoffMs: z.number().int().min(0).max(600_000).default(1000) }).strict().default({ attempts: 3, backoffMs: 1000 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const keys = Object.keys(c.search.params);
    if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'must name >= 1 parameter', path: ['search', 'params'] });
    for (const k of keys) if (!PARAM_PATH.test(k)) ctx.addIssue({ code: 'custom', message: `must be keyed by a dotted key path into the experiment like params.fast, was ${JSON.stringify(k)}`, path: ['search', 'params'] });
  });
export type SweepConfig = z.output<typeof SweepConfig>;

/** One point of a sweep: the value of every swept parameter path. */
export type SweepPoint = Readonly<Record<string, unknown>>;

/**
 * Parses a sweep config value; `file` names the source in errors.
 * Returns the frozen config or a {@link SweepError} `invalid_config` naming the file, JSON path and problem.
 */
export function parseSweepConfig(raw: unknown, file: string): Result<SweepConfig, SweepError> {
  const parsed = SweepConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => describeConfigIssue(i, raw));
    const first = issues[0]!;
    return err(new SweepError('invalid_config', `${file}: ${first.path}: ${first.problem}`, { file, path: first.path, problem: first.problem, issues }));
  }
  return ok(deepFreeze(parsed.data));
}

/** Reads and parses a sweep file. @throws SweepError `io`, `invalid_json`, `invalid_config`. */
export async function loadSweepConfig(file: string): Promise<SweepConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SweepError('io', `${file}: cannot read the sweep file: ${(e as Error).message}`, { file }, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SweepError('invalid_json', `${file}: $: not valid JSON: ${(e as Error).message}`, { file }, { cause: e });
  }
  const parsed = parseSweepConfig(raw, file);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

/**
 * Returns the points of the sweep in a fixed order: the grid's cartesian product (first axis slowest), or `trials`
 * seeded random draws (parameters drawn in declaration order; a point drawn twice is kept once, so a random search
 * may hold fewer than `trials` points).
 * @example expandSweep(config).length; // 24 for a 4 × 6 grid
 */
export function expandSweep(search: SweepConfig['search']): SweepPoint[] {
  const paths = Object.keys(search.params);
  if (search.kind === 'grid') {
    let points: Record<string, unknown>[] = [{}];
    for (const path of paths) points = points.flatMap((p) => search.params[path]!.map((v) => ({ ...p, [path]: v })));
    return points;
  }
  const random = seededRandom(search.seed);
  const seen = new Set<string>();
  const points: SweepPoint[] = [];
  for (let t = 0; t < search.trials; t++) {
    const point: Record<string, unknown> = {};
    for (const path of paths) {
      const d = search.params[path]!;
      const u = random();
      point[path] =
        d.kind === 'int' ? d.min + Math.floor(u * (d.max - d.min + 1))
        : d.kind === 'uniform' ? d.min + u * (d.max - d.min)
        : d.kind === 'log-uniform' ? Math.exp(Math.log(d.min) + u * (Math.log(d.max) - Math.log(d.min)))
        : d.values[Math.floor(u * d.values.length)];
    }
    const key = trialConfigHash(point);
    if (seen.has(key)) continue;
    seen.add(key);
    points.push(point);
  }
  return points;
}

/**
 * Returns a copy of the experiment JSON `base` with every parameter of `point` set at its dotted path (missing objects
 * are created; the experiment schema checks the result).
 * @throws SweepError `invalid_config` when a path crosses a value that is not an object.
 */
export function applyPoint(base: unknown, point: SweepPoint): Record<string, unknown> {
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [path, value] of Object.entries(point)) {
    const keys = path.split('.');
    let node: Record<string, unknown> = out;
    for (const [i, key] of keys.slice(0, -1).entries()) {
      const next = node[key] ?? (node[key] = {});
      if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        throw new SweepError('invalid_config', `search.params["${path}"]: ${keys.slice(0, i + 1).join('.')} is ${JSON.stringify(next)} in the base experiment, not an object`, { path });
      }
      node = next as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = structuredClone(value);
  }
  return out;
}

/**
 * Returns the id of a sweep: `<name>-<first 12 hex of the hash of (sweep config, base experiment)>`. The same sweep of
 * the same base is the same id on every machine, so queueing or running it again resumes it (done trials are kept).
 */
export function sweepIdOf(config: SweepConfig, base: unknown): string {
  return `${config.name}-${trialConfigHash({ sweep: { ...config, description: undefined }, base }).slice(0, 12)}`;
}
