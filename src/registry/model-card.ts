import { createHash } from 'node:crypto';
import { z } from 'zod';
import { err, ok, type Result } from '../core/result.js';
import { ModelPackageError } from './registry-error.js';

/** File names of a model package, wherever it is stored (MLflow run artifacts, S3 prefix, local folder). */
export const PACKAGE_FILES = Object.freeze({ onnx: 'model.onnx', card: 'card.json' });

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lower-case hex digits (sha256)' });
const IsoUtc = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(s) && Number.isFinite(Date.parse(s)), {
  message: 'must be an ISO-8601 UTC date like 2022-01-01 or 2022-01-01T00:00:00Z',
});

/** One promotion gate: `value` compared with `threshold` by `op`. */
export const GateCheck = z
  .object({
    value: z.number(),
    threshold: z.number(),
    op: z.enum(['>=', '<=']),
    passed: z.boolean(),
  })
  .strict();
export type GateCheck = z.infer<typeof GateCheck>;

/**
 * The model card shipped next to model.onnx: what the model is, which features it reads in which order, what data
 * it was trained on, how it scored, whether it passed its gates. `onnxSha256` binds the card to the ONNX bytes.
 */
export const ModelCard = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'must be letters, digits, ".", "_" or "-"' }),
    /** Input columns of the ONNX model, in order. */
    featureNames: z
      .array(z.string().min(1))
      .min(1)
      .refine((f) => new Set(f).size === f.length, { message: 'must not repeat a feature' }),
    /** Hash of the feature pipeline's spec (names, params, order) that produced the training inputs. */
    featureSpecHash: z.string().min(8),
    onnxSha256: Sha256Hex,
    /** Training data range, [from, to), UTC. */
    dataRange: z.object({ from: IsoUtc, to: IsoUtc }).strict(),
    /** Evaluation metrics (out-of-sample), by name. */
    metrics: z.record(z.string(), z.number()),
    gates: z.object({ passed: z.boolean(), checks: z.record(z.string(), GateCheck) }).strict(),
    seed: z.number().int(),
    gitCommit: z.string().regex(/^[0-9a-f]{7,40}$/, { message: 'must be a git commit hash' }),
  })
  .strict();
export type ModelCard = z.infer<typeof ModelCard>;

/** Returns the lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parses card JSON text. `where` names the location in the error message. */
export function parseModelCard(text: string, where: string): Result<ModelCard, ModelPackageError> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err(new ModelPackageError('invalid_card', `${where}: card.json is not JSON (${(e as Error).message})`, { where }));
  }
  const parsed = ModelCard.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    return err(new ModelPackageError('invalid_card', `${where}: card.json \`${first.path.join('.') || '$'}\` ${first.message}`, { where, issues: parsed.error.issues }));
  }
  return ok(parsed.data);
}

/** Serializes a card (stable key order as declared, 2-space indent). */
export function formatModelCard(card: ModelCard): string {
  return JSON.stringify(ModelCard.parse(card), null, 2) + '\n';
}

/** Checks that `onnxBytes` hash to the card's `onnxSha256`. */
export function verifyChecksum(card: ModelCard, onnxBytes: Uint8Array, where: string): Result<void, ModelPackageError> {
  const actual = sha256Hex(onnxBytes);
  if (actual === card.onnxSha256) return ok(undefined);
  return err(
    new ModelPackageError('checksum_mismatch', `${where}: sha256 of model.onnx is ${actual}, the card says ${card.onnxSha256} (corrupted or tampered artifact)`, {
      where,
      expected: card.onnxSha256,
      actual,
      bytes: onnxBytes.byteLength,
    }),
  );
}

/** The running pipeline's features: what a model must read, in this order. */
export interface ExpectedFeatures {
  readonly featureNames: readonly string[];
  readonly featureSpecHash: string;
}

/** Decides whether a card fits the running pipeline. `Err` = refuse the model. */
export type CardValidator = (card: ModelCard) => Result<void, ModelPackageError>;

/**
 * Returns a validator requiring the card's feature names, in order, and its feature-spec hash to equal `expected`.
 * The error names the first mismatching position and both names, e.g.
 * `feature 2 is "rsi-14" in the model card but "atr-14" in the running pipeline`.
 */
export function featureValidator(expected: ExpectedFeatures): CardValidator {
  return (card) => {
    const have = card.featureNames;
    const want = expected.featureNames;
    const n = Math.max(have.length, want.length);
    for (let i = 0; i < n; i++) {
      if (have[i] === want[i]) continue;
      const problem =
        have[i] === undefined
          ? `feature ${i} is ${JSON.stringify(want[i])} in the running pipeline but missing from the model card (card has ${have.length} features, pipeline ${want.length})`
          : want[i] === undefined
            ? `feature ${i} is ${JSON.stringify(have[i])} in the model card but missing from the running pipeline (card has ${have.length} features, pipeline ${want.length})`
            : `feature ${i} is ${JSON.stringify(have[i])} in the model card but ${JSON.stringify(want[i])} in the running pipeline`;
      return err(
        new ModelPackageError('feature_mismatch', `model ${JSON.stringify(card.name)}: ${problem}`, {
          model: card.name,
          index: i,
          cardFeature: have[i] ?? null,
          pipelineFeature: want[i] ?? null,
        }),
      );
    }
    if (card.featureSpecHash !== expected.featureSpecHash) {
      return err(
        new ModelPackageError(
          'feature_mismatch',
          `model ${JSON.stringify(card.name)}: featureSpecHash is ${card.featureSpecHash} in the model card but ${expected.featureSpecHash} in the running pipeline (same feature names, different parameters)`,
          { model: card.name, cardHash: card.featureSpecHash, pipelineHash: expected.featureSpecHash },
        ),
      );
    }
    return ok(undefined);
  };
}
