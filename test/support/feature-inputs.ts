import { DAY_MS } from '../../src/core/time.js';
import type { FeatureInputs, FeaturePipeline, IncrementalFeatures } from '../../src/features/index.js';

/**
 * Feeds `x` to a fresh incremental state of `pipeline` from bar `from` and calls `row(t, values, state)` for every computed
 * bar. External rows are pushed all up front, or each when due (a funding settlement at its time, a DVOL day once it
 * closed: what a live feed knows). Bars where `skip(t)` holds are only taken into the state (`skip`: no row).
 */
export function feedIncremental(pipeline: FeaturePipeline, x: FeatureInputs, mode: 'upfront' | 'when-due', row: (t: number, values: Float64Array, state: IncrementalFeatures) => void, from = 0, skip?: (t: number) => boolean): IncrementalFeatures {
  const inc = pipeline.createIncremental({ timeframeMs: x.timeframeMs });
  const f = x.funding!, d = x.dvol!;
  let fi = 0, di = 0;
  if (mode === 'upfront') {
    for (; fi < f.ts.length; fi++) inc.pushFunding(f.ts[fi]!, f.rate[fi]!);
    for (; di < d.ts.length; di++) inc.pushDvol(d.ts[di]!, d.value[di]!);
  }
  for (let t = from; t < x.ts.length; t++) {
    const closeTime = x.ts[t]! + x.timeframeMs;
    for (; fi < f.ts.length && f.ts[fi]! <= closeTime; fi++) inc.pushFunding(f.ts[fi]!, f.rate[fi]!);
    for (; di < d.ts.length && d.ts[di]! + DAY_MS <= closeTime; di++) inc.pushDvol(d.ts[di]!, d.value[di]!);
    const bar = [x.ts[t]!, x.open[t]!, x.high[t]!, x.low[t]!, x.close[t]!, x.volume[t]!, x.referenceClose![t]!] as const;
    if (skip?.(t)) inc.skip(...bar);
    else row(t, inc.update(...bar), inc);
  }
  return inc;
}

/**
 * `x` cut after bar t, as a live system would have it at t's close: bars 0..t, funding settlements with
 * ts <= t's close, DVOL days closed by t's close. For causality tests (features at t must not change).
 */
export function removeFuture(x: FeatureInputs, t: number): FeatureInputs {
  const cut = x.ts[t]! + x.timeframeMs;
  const k = (a: Float64Array) => a.slice(0, t + 1);
  const fn = x.funding!.ts.findLastIndex((s) => s <= cut) + 1;
  const dn = x.dvol!.ts.findLastIndex((d) => d + DAY_MS <= cut) + 1;
  return {
    ts: k(x.ts),
    timeframeMs: x.timeframeMs,
    open: k(x.open),
    high: k(x.high),
    low: k(x.low),
    close: k(x.close),
    volume: k(x.volume),
    referenceClose: k(x.referenceClose!),
    funding: { ts: x.funding!.ts.slice(0, fn), rate: x.funding!.rate.slice(0, fn) },
    dvol: { ts: x.dvol!.ts.slice(0, dn), value: x.dvol!.value.slice(0, dn) },
  };
}
