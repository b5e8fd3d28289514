import type { BacktestResult } from '../backtest/backtest-result.js';
import { drawdownSeries } from '../backtest/metrics.js';
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

const iso = (ms: number) => new Date(ms).toISOString();

/** Equity (top) and drawdown from the running peak (bottom) of a backtest. */
export function equityAndDrawdownFigure(result: BacktestResult): { data: unknown[]; layout: Record<string, unknown> } {
  const { ts, value } = result.equity;
  const x = Array.from(ts, iso);
  const dd = drawdownSeries(value);
  return {
    data: [
      { type: 'scatter', mode: 'lines', x, y: Array.from(value), name: 'equity', yaxis: 'y' },
      { type: 'scatter', mode: 'lines', x, y: Array.from(dd, (d) => d * 100), name: 'drawdown %', yaxis: 'y2', fill: 'tozeroy', line: { color: '#c0392b' } },
    ],
    layout: {
      title: { text: `${result.name}: equity and drawdown` },
      yaxis: { domain: [0.35, 1], title: { text: 'equity (USDT)' } },
      yaxis2: { domain: [0, 0.28], title: { text: 'drawdown %' } },
      showlegend: false,
    },
  };
}

/** Candlesticks of instrument `i` of a backtest with its fills: buys ▲, sells ▼. */
export function candlesWithFillsFigure(result: BacktestResult, i: number): { data: unknown[]; layout: Record<string, unknown> } {
  const bars = result.bars[i]!;
  const id = result.instruments[i]!;
  const buys = result.fills.filter((f) => f.instrument === id && f.side === 'buy');
  const sells = result.fills.filter((f) => f.instrument === id && f.side === 'sell');
  const marker = (fills: typeof buys, symbol: string, color: string, name: string) => ({
    type: 'scatter', mode: 'markers', name, x: fills.map((f) => iso(f.ts)), y: fills.map((f) => f.price), marker: { symbol, color, size: 9 },
  });
  return {
    data: [
      { type: 'candlestick', x: Array.from(bars.ts, iso), open: Array.from(bars.open), high: Array.from(bars.high), low: Array.from(bars.low), close: Array.from(bars.close), name: id },
      marker(buys, 'triangle-up', '#1e8449', 'buy'),
      marker(sells, 'triangle-down', '#c0392b', 'sell'),
    ],
    layout: { title: { text: `${id}: fills` }, xaxis: { rangeslider: { visible: false } } },
  };
}
