import type { BarFrame } from '../data/bar-frame.js';

/** Candlesticks with a volume subplot for series `i` of a frame (bars with `present` 0 are left out). */
export function candlesWithVolume(frame: BarFrame, i: number): { data: unknown[]; layout: Record<string, unknown> } {
  const x: string[] = [], o: number[] = [], h: number[] = [], l: number[] = [], c: number[] = [], v: number[] = [];
  const p = frame.present[i]!;
  for (let t = 0; t < frame.ts.length; t++) {
    if (p[t] === 0) continue;
    x.push(new Date(frame.ts[t]!).toISOString());
    o.push(frame.open[i]![t]!);
    h.push(frame.high[i]![t]!);
    l.push(frame.low[i]![t]!);
    c.push(frame.close[i]![t]!);
    v.push(frame.volume[i]![t]!);
  }
  const symbol = frame.symbols[i]!;
  return {
    data: [
      { type: 'candlestick', x, open: o, high: h, low: l, close: c, name: symbol, yaxis: 'y' },
      { type: 'bar', x, y: v, name: 'volume', yaxis: 'y2', marker: { color: '#8899aa' } },
    ],
    layout: {
      title: { text: `${symbol} ${frame.timeframe} (${frame.venue})` },
      xaxis: { rangeslider: { visible: false } },
      yaxis: { domain: [0.3, 1], title: { text: 'price' } },
      yaxis2: { domain: [0, 0.25], title: { text: 'volume' } },
      showlegend: false,
    },
  };
}
