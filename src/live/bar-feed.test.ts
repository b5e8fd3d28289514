import { describe, expect, it } from 'vitest';
import type { BarPage } from '../adapters/series-pages.js';
import { LiveBarFeed, type ClosedBarSource } from './bar-feed.js';
import { VirtualTime } from './live-clock.js';

const TF = 3_600_000;

/** The venue's kline endpoint over fixed bars per symbol (it serves the forming bar too, as Bybit does). */
function source(bars: Record<string, number[]>): ClosedBarSource & { calls: number } {
  const s = {
    calls: 0,
    async fetchBarsPage(symbol: string, _tf: never, since: number, limit: number): Promise<BarPage> {
      s.calls++;
      const ts = (bars[symbol] ?? []).filter((t) => t >= since).slice(0, limit);
      const col = () => Float64Array.from(ts, (t) => t / TF);
      return { length: ts.length, ts: Float64Array.from(ts), open: col(), high: col(), low: col(), close: col(), volume: col() };
    },
  };
  return s;
}

describe('live bar feed', () => {
  it('hands over missed bars in order, one bar time per call, never the forming bar', async () => {
    const all = Array.from({ length: 10 }, (_, k) => k * TF);
    const time = new VirtualTime(5 * TF + 10); // bars 0..4 closed, bar 5 forming
    const feed = new LiveBarFeed(source({ A: all, B: all }), ['A', 'B'], '1h', TF, time, { graceMs: 0 });
    const got: number[] = [];
    let cursor = -TF;
    for (let k = 0; k < 5; k++) {
      const set = (await feed.next(cursor))!;
      expect(set.bars.every((b) => b !== undefined && b.ts === set.ts)).toBe(true);
      got.push(set.ts / TF);
      cursor = set.ts;
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(time.current()).toBe(5 * TF + 10); // no wait: they had closed
    const next = (await feed.next(cursor))!; // bar 5: waits for its close
    expect(next.ts).toBe(5 * TF);
    expect(time.current()).toBe(6 * TF);
  });

  it('marks an instrument absent once a later bar time closed without its bar', async () => {
    const time = new VirtualTime(0);
    const feed = new LiveBarFeed(source({ A: [0, TF, 2 * TF, 3 * TF], B: [0, 2 * TF, 3 * TF] }), ['A', 'B'], '1h', TF, time, { graceMs: 0, retryMs: 1000 });
    const a = (await feed.next(-TF))!;
    expect(a.bars.map((b) => b?.ts)).toEqual([0, 0]);
    const b = (await feed.next(0))!;
    expect(b.ts).toBe(TF);
    expect(b.bars.map((x) => x?.ts)).toEqual([TF, undefined]);
    const c = (await feed.next(TF))!;
    expect(c.bars.map((x) => x?.ts)).toEqual([2 * TF, 2 * TF]);
  });

  it('returns undefined when its wait is interrupted (a stop request)', async () => {
    const time = new VirtualTime(0);
    const feed = new LiveBarFeed(source({ A: [0] }), ['A'], '1h', TF, time, { graceMs: 0 });
    time.interrupt();
    expect(await feed.next(-TF)).toBeUndefined();
  });
});
