import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline } from '../features/index.js';
import type { SignalModel } from '../signals/index.js';
import type { SignalInputSource } from '../signals/signal-input-source.js';
import { LiveSignals } from './live-signals.js';

const TF = 4 * 3_600_000;
const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
/** A model answering the first feature + 1 (in place, or only by promise). */
const model = (inPlace: boolean): SignalModel => ({
  featureNames: pipeline.names,
  predictOne: async (row) => row[0]! + 1,
  ...(inPlace ? { predictOneNow: (row: ArrayLike<number>) => row[0]! + 1 } : {}),
  predict: async () => new Float32Array(0),
});
const noInputs: SignalInputSource = { funding: async () => [], dvol: async () => [], barClose: async () => NaN };

function signals(inPlace: readonly boolean[]): LiveSignals {
  return new LiveSignals({ column: 'signal', symbols: ['A', 'B', 'C'], timeframe: '4h', funding: false, dvol: false }, pipeline, inPlace.map(model), noInputs);
}

/** Replays 40 sets (instrument 1 misses every 7th bar), checking the last 3; returns the worst difference per set and the last values. */
async function replay(s: LiveSignals, saved: (k: number, i: number) => number) {
  const worst: number[] = [];
  const refs = new Float64Array(3).fill(NaN), values = new Float64Array(3), check = new Uint8Array(3);
  let last: number[] = [];
  for (let k = 0; k < 40; k++) {
    const ts = k * TF;
    const bar = (i: number) => ({ ts, open: 100 + k + i, high: 101 + k + i, low: 99 + k + i, close: 100.5 + k + i * Math.sin(k), volume: 10 + i });
    const set = { ts, bars: [bar(0), k % 7 === 3 ? undefined : bar(1), bar(2)] };
    for (let i = 0; i < 3; i++) (values[i] = saved(k, i)), (check[i] = k >= 37 ? 1 : 0);
    const d = s.replaySaved(set, refs, values, check);
    worst.push(typeof d === 'number' ? d : await d);
    last = [s.value(0), s.value(1), s.value(2)];
  }
  return { worst, last };
}

describe('LiveSignals.replaySaved', () => {
  it('answers in place when the models can, by promise when one cannot, with the same differences and signals', async () => {
    const saved = (k: number, i: number) => k * 10 + i;
    const sync = await replay(signals([true, true, true]), saved);
    const mixed = await replay(signals([true, false, true]), saved);
    expect(mixed).toEqual(sync);
    // The signal of each present bar is the saved one, whichever path; only the checked sets have a difference.
    expect(sync.last).toEqual([390, 391, 392]);
    expect(sync.worst.slice(0, 37).every((d) => d === 0)).toBe(true);
    expect(sync.worst.slice(37).every((d) => d > 0)).toBe(true);
  });

});
