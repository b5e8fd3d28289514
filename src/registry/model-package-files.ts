import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../core/app-error.js';
import { loadOnnxModel, type OnnxModel } from '../models/index.js';
import { featureValidator, PACKAGE_FILES, parseModelCard, verifyChecksum, type ExpectedFeatures, type ModelCard } from './model-card.js';

/** A model package read from disk and checked (checksum, features) before use. */
export interface LoadedPackage {
  readonly card: ModelCard;
  readonly model: OnnxModel;
  /** `local-<first 12 hex of the ONNX sha256>`: one label per distinct model file. */
  readonly version: string;
}

/**
 * Reads the model package for `symbol` from `dir` (`<dir>/<symbol>/` when it holds one, else `<dir>` itself), checks
 * the ONNX sha256 against the card and the card's features against `expected` (the running pipeline's), and loads it
 * into onnxruntime.
 * @throws AppError `model_package` when the files cannot be read; ModelPackageError on a bad card, checksum or features.
 */
export async function loadModelPackage(dir: string, symbol: string, expected: ExpectedFeatures): Promise<LoadedPackage> {
  const own = join(dir, symbol);
  const folder = existsSync(join(own, PACKAGE_FILES.onnx)) ? own : dir;
  const where = resolve(folder);
  let cardText: string, onnxBytes: Uint8Array;
  try {
    cardText = await readFile(join(folder, PACKAGE_FILES.card), 'utf8');
    onnxBytes = new Uint8Array(await readFile(join(folder, PACKAGE_FILES.onnx)));
  } catch (e) {
    throw new AppError('model_package', `--model ${dir}: cannot read ${PACKAGE_FILES.onnx} and ${PACKAGE_FILES.card} in ${where}: ${(e as Error).message}`, { dir: where }, { cause: e });
  }
  const card = parseModelCard(cardText, join(where, PACKAGE_FILES.card));
  if (!card.success) throw card.error;
  for (const check of [verifyChecksum(card.data, onnxBytes, where), featureValidator(expected)(card.data)]) {
    if (!check.success) throw check.error;
  }
  const model = await loadOnnxModel(onnxBytes, expected);
  return { card: card.data, model, version: `local-${card.data.onnxSha256.slice(0, 12)}` };
}

