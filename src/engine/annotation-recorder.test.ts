import { describe, expect, it } from 'vitest';
import { AnnotationError, AnnotationRecorder } from './annotation-recorder.js';
import { thrown } from '../../test/support/thrown.js';

describe('AnnotationRecorder: tiers', () => {
  it('records a tier only when the (tier, reason) pair of its instrument changes; tierOf is the one in force', () => {
    const r = new AnnotationRecorder(2, 16);
    expect(r.tierOf(0)).toBeUndefined();
    expect(r.tierOf(1)).toBeUndefined();
    r.tier(0, 100, 'PURE_KELLY', 'no_rl_sizer');
    r.tier(0, 200, 'PURE_KELLY', 'no_rl_sizer'); // unchanged: not stored
    r.tier(1, 200, 'PURE_KELLY', 'no_rl_sizer'); // another instrument: stored
    r.tier(0, 300, 'PURE_KELLY', 'low_ic'); // same tier, other reason: stored
    r.tier(0, 400, 'BLENDED', 'low_ic'); // other tier, same reason: stored
    expect(r.tierOf(0)).toEqual({ tier: 'BLENDED', reason: 'low_ic' });
    expect(r.tierOf(1)).toEqual({ tier: 'PURE_KELLY', reason: 'no_rl_sizer' });
    expect(r.result()).toEqual({
      tiers: [
        { instrument: 0, ts: 100, tier: 'PURE_KELLY', reason: 'no_rl_sizer' },
        { instrument: 1, ts: 200, tier: 'PURE_KELLY', reason: 'no_rl_sizer' },
        { instrument: 0, ts: 300, tier: 'PURE_KELLY', reason: 'low_ic' },
        { instrument: 0, ts: 400, tier: 'BLENDED', reason: 'low_ic' },
      ],
      regimes: [],
    });
  });

  it('keeps every change past its first 64 (the columns grow)', () => {
    const r = new AnnotationRecorder(3, 16);
    const expected: { instrument: number; ts: number; tier: string; reason: string }[] = [];
    for (let k = 0; k < 150; k++) {
      const change = { instrument: k % 3, ts: 1000 + k, tier: k % 2 === 0 ? 'FULL_RL' : 'BLENDED', reason: `rule-${k % 5}` };
      r.tier(change.instrument, change.ts, change.tier, change.reason);
      expected.push(change);
    }
    expect(r.result()!.tiers).toEqual(expected);
    expect(r.tierOf(2)).toEqual({ tier: 'BLENDED', reason: 'rule-4' }); // k = 149
  });
});

describe('AnnotationRecorder: regimes', () => {
  it('records samples per instrument with the labels of its first call; regimeOf is the last sample', () => {
    const r = new AnnotationRecorder(3, 16);
    expect(r.regimeOf(2)).toBeUndefined();
    const labels = ['bear', 'neutral', 'bull'];
    const probabilities = [0.2, 0.3, 0.5];
    r.regime(2, 10, labels, probabilities);
    labels[0] = 'changed'; // the recorder keeps its own copy of the labels and the numbers
    probabilities[0] = 9;
    r.regime(2, 20, ['ignored', 'after', 'first'], Float64Array.of(0.1, 0.1, 0.8));
    r.regime(0, 20, ['calm'], [1]);
    expect(r.regimeOf(2)).toEqual({ labels: ['bear', 'neutral', 'bull'], probabilities: Float64Array.of(0.1, 0.1, 0.8) });
    expect(r.regimeOf(1)).toBeUndefined();
    expect(r.result()).toEqual({
      tiers: [],
      regimes: [
        { instrument: 0, labels: ['calm'], ts: Float64Array.of(20), probabilities: [Float64Array.of(1)] },
        { instrument: 2, labels: ['bear', 'neutral', 'bull'], ts: Float64Array.of(10, 20), probabilities: [Float64Array.of(0.2, 0.1), Float64Array.of(0.3, 0.1), Float64Array.of(0.5, 0.8)] },
      ],
    });
  });

  it('keeps every sample past the capacity (it grows), also from a capacity of 0', () => {
    for (const capacity of [0, 16, 20]) {
      const r = new AnnotationRecorder(1, capacity);
      const n = 70;
      for (let k = 0; k < n; k++) r.regime(0, k * 10, ['a', 'b'], [k, -k]);
      const [log] = r.result()!.regimes;
      expect(log!.ts).toEqual(Float64Array.from({ length: n }, (_, k) => k * 10));
      expect(log!.probabilities).toEqual([Float64Array.from({ length: n }, (_, k) => k), Float64Array.from({ length: n }, (_, k) => -k)]);
      expect(r.regimeOf(0)!.probabilities).toEqual(Float64Array.of(n - 1, 1 - n));
    }
  });

  it('refuses a first call without labels and a call with another number of probabilities; a refused first call records nothing', () => {
    const r = new AnnotationRecorder(2, 16);
    const noLabels = thrown(() => r.regime(0, 10, [], []));
    expect(noLabels).toBeInstanceOf(AnnotationError);
    expect(noLabels).toMatchObject({ code: 'invalid_annotation', message: 'annotateRegime: `labels` must name >= 1 state, was 0', context: { instrument: 0, labels: 0 } });
    const tooFew = thrown(() => r.regime(1, 10, ['a', 'b'], [1]));
    expect(tooFew).toMatchObject({ code: 'invalid_annotation', message: 'annotateRegime: `probabilities` must have one entry per label (2) of instrument 1, was 1', context: { instrument: 1, expected: 2, actual: 1 } });
    expect(r.regimeOf(0)).toBeUndefined();
    expect(r.regimeOf(1)).toBeUndefined();
    expect(r.result()).toBeUndefined();
    r.regime(0, 10, ['a'], [1]);
    expect(thrown(() => r.regime(0, 20, ['a'], [0.5, 0.5]))).toMatchObject({ message: 'annotateRegime: `probabilities` must have one entry per label (1) of instrument 0, was 2' });
    expect(r.result()!.regimes).toEqual([{ instrument: 0, labels: ['a'], ts: Float64Array.of(10), probabilities: [Float64Array.of(1)] }]);
  });
});

describe('AnnotationRecorder.checkInstrument and result', () => {
  it('accepts an index in [0, count) and names the call and the value otherwise', () => {
    const r = new AnnotationRecorder(3, 16);
    expect(r.checkInstrument(0, 3, 'annotateTier')).toBe(0);
    expect(r.checkInstrument(2, 3, 'annotateTier')).toBe(2);
    for (const bad of [3, -1, 1.5, NaN]) {
      const error = thrown(() => r.checkInstrument(bad, 3, 'annotateRegime'));
      expect(error).toBeInstanceOf(AnnotationError);
      expect(error).toMatchObject({ code: 'invalid_annotation', message: `annotateRegime: instrument must be an index in [0, 3), was ${bad}`, context: { instrument: bad } });
    }
  });

  it('result is undefined while nothing was recorded, and a copy trimmed to what was recorded after', () => {
    const r = new AnnotationRecorder(1, 16);
    expect(r.result()).toBeUndefined();
    r.regime(0, 5, ['x'], [0.5]);
    const first = r.result()!;
    r.regime(0, 6, ['x'], [0.25]);
    expect(first.regimes[0]!.ts).toEqual(Float64Array.of(5));
    expect(r.result()!.regimes[0]!.ts).toEqual(Float64Array.of(5, 6));
  });
});
