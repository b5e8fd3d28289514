import { DAY_MS } from '../../src/core/time.js';
import type { FeatureInputs } from '../../src/features/index.js';

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
