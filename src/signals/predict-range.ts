import { AppError } from '../core/app-error.js';
import { formatUtc, timeframeMs } from '../core/time.js';
import type { MarketStore } from '../data/index.js';
import { featureInputsFromStore, type FeatureInputs, type FeaturePipeline } from '../features/index.js';
import { SignalStage, type SignalModel } from './signal-stage.js';

/** What a model package says about itself (the model card's fields `predictRange` checks). */
export interface ModelProvenance {
  readonly name: string;
  /** Training data range [from, to), ISO UTC. */
  readonly dataRange: { readonly from: string; readonly to: string };
  readonly gatesPassed: boolean;
  /** sha256 of the ONNX file (identifies the model in a live runner's saved state). */
  readonly onnxSha256?: string;
}

export interface PredictRangeRequest {
  readonly venue: string;
  readonly symbols: readonly string[];
  readonly timeframe: string;
  /** Window [from, to) of bar open times, epoch ms. */
  readonly from: number;
  readonly to: number;
  /** Funding venue of the feature inputs (the training config's), e.g. `binance-futures`; absent = no funding. */
  readonly fundingVenue?: string;
  /** Read DVOL (Deribit BTC) for the DVOL features. */
  readonly dvol: boolean;
  /** Cross-asset reference symbol, e.g. `BTCUSDT`. */
  readonly reference?: string;
  /** One model per symbol (same order), with its card. */
  readonly models: readonly { readonly model: SignalModel; readonly card: ModelProvenance }[];
  /** Run on a window that overlaps the model's training range (otherwise refused). */
  readonly allowInSample?: boolean;
  /** Run a model whose quality gates failed (otherwise refused). */
  readonly allowUngated?: boolean;
}

export interface PredictedSeries {
  readonly symbol: string;
  /** Bar open times in [from, to), epoch ms. */
  readonly ts: Float64Array;
  readonly prediction: Float64Array;
  /** Bars replayed before `from` to warm the features up. */
  readonly warmupBars: number;
  /** True when [from, to) overlaps the model's training range (only with `allowInSample`). */
  readonly inSample: boolean;
  readonly ungated: boolean;
}

/** Whether [from, to) (epoch ms) overlaps the model's training range: its predictions there are in-sample. */
export function overlapsTraining(card: ModelProvenance, from: number, to: number): boolean {
  return from < Date.parse(card.dataRange.to) && to > Date.parse(card.dataRange.from);
}

export type PredictErrorCode = 'in_sample' | 'ungated' | 'no_bars';
export class PredictError extends AppError<PredictErrorCode> {}

/**
 * Runs models over bars they may never have seen, through the same signal stage the backtest and the live runner use:
 * per symbol, the feature inputs from `from` − warm-up (the pipeline's warm-up, capped by the store) to `to` go
 * bar by bar through incremental features → the model; predictions of the bars in [from, to) are returned.
 * @throws PredictError `in_sample` when [from, to) overlaps a model's training range (unless `allowInSample`),
 *   `ungated` when a model's gates failed (unless `allowUngated`), `no_bars` when the store has no bar in the window.
 */
export async function predictRange(store: MarketStore, pipeline: FeaturePipeline, request: PredictRangeRequest): Promise<PredictedSeries[]> {
  const { symbols, models, from, to } = request;
  const inSample: boolean[] = [];
  for (const [k, { card }] of models.entries()) {
    const overlaps = overlapsTraining(card, from, to);
    if (overlaps && !request.allowInSample) {
      throw new PredictError('in_sample', `model ${card.name} (for ${symbols[k]}) was trained on [${card.dataRange.from}, ${card.dataRange.to}), which overlaps the window [${formatUtc(from)}, ${formatUtc(to)}): its predictions there are in-sample; pass --allow-in-sample to run anyway`, {
        model: card.name,
        trainedFrom: card.dataRange.from,
        trainedTo: card.dataRange.to,
      });
    }
    if (!card.gatesPassed && !request.allowUngated) {
      throw new PredictError('ungated', `model ${card.name} (for ${symbols[k]}) failed its quality gates; pass --allow-ungated to run it anyway`, { model: card.name });
    }
    inSample.push(overlaps);
  }
  const tf = timeframeMs(request.timeframe);
  const inputs: FeatureInputs[] = [];
  for (const symbol of symbols) {
    inputs.push(
      await featureInputsFromStore(store, {
        venue: request.venue,
        symbol,
        timeframe: request.timeframe,
        start: from - pipeline.warmupBars * tf,
        end: to,
        ...(request.fundingVenue !== undefined ? { fundingVenue: request.fundingVenue } : {}),
        dvol: request.dvol,
        ...(request.reference !== undefined ? { reference: request.reference } : {}),
      }),
    );
  }
  const stage = new SignalStage(pipeline, models.map((m) => m.model), inputs);
  const out: PredictedSeries[] = [];
  for (const [i, x] of inputs.entries()) {
    let first = 0;
    while (first < x.ts.length && x.ts[first]! < from) first++;
    if (first === x.ts.length) throw new PredictError('no_bars', `${request.venue} ${request.timeframe} ${symbols[i]}: the store has no bar in [${formatUtc(from)}, ${formatUtc(to)})`, { symbol: symbols[i] });
    const prediction = new Float64Array(x.ts.length - first);
    for (let t = 0; t < x.ts.length; t++) {
      const v = await stage.onBar(i, t);
      if (t >= first) prediction[t - first] = v;
    }
    out.push({ symbol: symbols[i]!, ts: x.ts.slice(first), prediction, warmupBars: first, inSample: inSample[i]!, ungated: !models[i]!.card.gatesPassed });
  }
  return out;
}
