/**
 * The contract of a `SignalInputSource` (what a live signal stage asks besides the bars): every implementation answers
 * exactly the funding settlements in (after, upTo], the DVOL days that started after `after` and ended by `upTo`, and
 * the close of a closed bar (NaN where none), over the same recorded data.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/core/time.js';
import type { SignalInputSource } from '../../src/signals/signal-input-source.js';

/** The recorded data every harness serves (loaded from the shared data). */
export interface SignalInputsTruth {
  readonly funding: Readonly<Record<string, { readonly ts: Float64Array; readonly rate: Float64Array; readonly length: number }>>;
  readonly dvol: { readonly ts: Float64Array; readonly value: Float64Array };
  readonly bars: Readonly<Record<string, { readonly ts: Float64Array; readonly close: Float64Array }>>;
}

export function runSignalInputSourceContract(name: string, open: () => Promise<{ source: SignalInputSource; truth: SignalInputsTruth; close(): Promise<void> }>): void {
  describe(`SignalInputSource contract: ${name}`, () => {
    const H8 = 8 * 3_600_000;
    it('funding: exactly the settlements in (after, upTo], oldest first, across pages and at the boundaries', async () => {
      const h = await open();
      try {
        for (const [symbol, f] of Object.entries(h.truth.funding)) {
          const k = f.ts.findIndex((t) => t >= Date.UTC(2024, 0, 1));
          const windows: [number, number][] = [
            [f.ts[k]!, f.ts[k + 3]!], // after = a settlement (excluded), upTo = a settlement (included)
            [f.ts[k]! - 1, f.ts[k + 3]! - 1],
            [f.ts[k]!, f.ts[k]! + 100 * DAY_MS], // ~300 settlements: more than one venue page
            [-Infinity, f.ts[2]!],
            [f.ts[k]! + 1, f.ts[k]! + H8 - 1], // none
          ];
          for (const [after, upTo] of windows) {
            const want: { ts: number; value: number }[] = [];
            for (let j = 0; j < f.length; j++) if (f.ts[j]! > after && f.ts[j]! <= upTo) want.push({ ts: f.ts[j]!, value: f.rate[j]! });
            expect(await h.source.funding(symbol, after, upTo), `${symbol} (${after}, ${upTo}]`).toEqual(want);
          }
        }
      } finally {
        await h.close();
      }
    });

    it('dvol: the days that started after `after` and ended by `upTo`', async () => {
      const h = await open();
      try {
        const d = h.truth.dvol;
        const k = d.ts.findIndex((t) => t >= Date.UTC(2024, 0, 1));
        for (const [after, upTo] of [[d.ts[k]!, d.ts[k + 5]! + DAY_MS], [d.ts[k]! - 1, d.ts[k + 5]! + DAY_MS - 1], [d.ts[k]!, d.ts[k]! + DAY_MS]] as [number, number][]) {
          const want: { ts: number; value: number }[] = [];
          for (let j = 0; j < d.ts.length; j++) if (d.ts[j]! > after && d.ts[j]! + DAY_MS <= upTo) want.push({ ts: d.ts[j]!, value: d.value[j]! });
          expect(await h.source.dvol(after, upTo)).toEqual(want);
        }
      } finally {
        await h.close();
      }
    });

    it('barClose: the close of the bar opening at ts, NaN where there is none', async () => {
      const h = await open();
      try {
        for (const [symbol, b] of Object.entries(h.truth.bars)) {
          const k = b.ts.findIndex((t) => t >= Date.UTC(2024, 0, 1));
          for (const j of [k, k + 1, k + 500]) expect(await h.source.barClose(symbol, '4h', b.ts[j]!)).toBe(b.close[j]);
          expect(await h.source.barClose(symbol, '4h', b.ts[k]! + 1)).toBeNaN(); // not a bar open time
        }
      } finally {
        await h.close();
      }
    });
  });
}
