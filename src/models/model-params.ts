import { z } from 'zod';
import { ModelError } from './model-error.js';

/** Parameters of {@link fitGradientBoosting}; defaults are declared here once. */
export const GradientBoostingParamsSchema = z
  .object({
    /** Seed of every random draw (row subsampling, feature subsampling). Required: no hidden randomness. */
    seed: z.number().int().min(0).max(0xffffffff),
    /** Number of boosting rounds (trees). */
    rounds: z.number().int().min(1).default(300),
    /** Shrinkage applied to each tree's leaf values (folded into the stored leaves). */
    learningRate: z.number().gt(0).max(1).default(0.05),
    maxDepth: z.number().int().min(1).max(32).default(5),
    /** Minimum rows in each child of a split. */
    minLeaf: z.number().int().min(1).default(20),
    /** L2 penalty λ on leaf values: leaf = -G / (H + λ), gain = G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ). */
    lambda: z.number().min(0).default(1),
    /** Minimum gain γ a split must exceed. */
    minSplitGain: z.number().min(0).default(0),
    /** Fraction of rows drawn (Bernoulli, without replacement) for each tree. */
    subsample: z.number().gt(0).max(1).default(0.8),
    /** Fraction of features a tree may split on (at least one). */
    featureFraction: z.number().gt(0).max(1).default(1),
    /** Quantile bins per feature (2..256). */
    maxBins: z.number().int().min(2).max(256).default(128),
  })
  .strict();

/** Parsed gradient boosting parameters (every value concrete). */
export type GradientBoostingParams = z.output<typeof GradientBoostingParamsSchema>;

/** Parameters of {@link fitRandomForest}; defaults are declared here once. */
export const RandomForestParamsSchema = z
  .object({
    /** Seed of every random draw (bootstrap, `mtry`). Required: no hidden randomness. */
    seed: z.number().int().min(0).max(0xffffffff),
    trees: z.number().int().min(1).default(200),
    /** Features drawn per split; absent means max(1, floor(columns / 3)). */
    mtry: z.number().int().min(1).optional(),
    /** Depth limit; absent means unlimited (until `minLeaf` stops splitting). */
    maxDepth: z.number().int().min(1).max(64).optional(),
    /** Minimum rows (with bootstrap multiplicity) in each child of a split. */
    minLeaf: z.number().int().min(1).default(5),
    /** Rows drawn per tree as a fraction of the row count (with replacement when `bootstrap`). */
    sampleFraction: z.number().gt(0).max(1).default(1),
    bootstrap: z.boolean().default(true),
    /** Quantile bins per feature (2..256). */
    maxBins: z.number().int().min(2).max(256).default(128),
  })
  .strict();

/** Parsed random forest parameters (every value concrete except the meaningful optionals). */
export type RandomForestParams = z.output<typeof RandomForestParamsSchema>;

/**
 * Parses `params` with `schema`.
 * @throws ModelError `invalid_params` naming the parameter, the rule and the value.
 */
export function parseParams<S extends z.ZodType>(schema: S, params: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
  const value = issue.path.reduce<unknown>((v, p) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p as PropertyKey] : undefined), params);
  throw new ModelError('invalid_params', `${what} params.${key}: ${issue.message}, was ${JSON.stringify(value)}`, { parameter: key, value });
}
