import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fitMsGarch, type MsGarchFit } from '../src/regime/index.js';
import { median, type Benchmark } from './bench-result.js';

/**
 * Full 4-state MS-GARCH fit (default options: constrained, diagnostics on — Hessian standard errors, condition
 * number, degenerate verdict — but `onDegenerate: 'report'` so a degenerate fit is timed rather than refused; seed 1)
 * on binance-spot BTCUSDT 4h log returns (raw, not × 100) of bars 2022-01-01T00:00Z..2025-08-31T20:00Z (~8,000
 * returns), Gaussian and Student-t innovations: seconds per fit, median of 3 runs of the slower (t); target 5 s.
 */
const bench: Benchmark = {
  name: 'regime-fit',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const file = join(root, 'binance-spot', 'BTCUSDT-4h.csv.gz');
    const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
    if (lines[0] !== 'ts,open,high,low,close,volume') throw new Error(`${file}: header must be ts,open,high,low,close,volume, was ${lines[0]}`);
    const closes: number[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      const cols = line.split(',');
      const ts = cols[0]!;
      if (ts >= '2022-01-01T00:00:00Z' && ts <= '2025-08-31T20:00:00Z') closes.push(Number(cols[4]));
    }
    const returns = new Float64Array(closes.length - 1);
    for (let t = 1; t < closes.length; t++) returns[t - 1] = Math.log(closes[t]! / closes[t - 1]!);
    const seed = 1;
    const samples: number[] = [];
    const normalSamples: number[] = [];
    let fit: MsGarchFit | null = null;
    let normalFit: MsGarchFit | null = null;
    for (let run = 0; run < 3; run++) {
      let t0 = performance.now();
      normalFit = fitMsGarch(returns, { seed, onDegenerate: 'report' });
      normalSamples.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      fit = fitMsGarch(returns, { seed, innovations: 't', onDegenerate: 'report' });
      samples.push((performance.now() - t0) / 1000);
    }
    const f = fit!, g = normalFit!;
    return {
      name: 'regime-fit',
      value: Number(median(samples).toFixed(3)),
      unit: 's',
      target: 5,
      better: 'lower',
      details: {
        bars: returns.length,
        states: f.model.states,
        seed,
        runs: samples.map((s) => Number(s.toFixed(3))),
        statistic: 'median',
        innovations: 't',
        verdict: f.verdict,
        degenerate: f.degenerateReasons.map((r) => r.parameter),
        conditionNumber: f.diagnostics.conditionNumber,
        finalistsAtBest: `${f.diagnostics.finalistsAtBest}/${f.diagnostics.finalists}`,
        normal: { seconds: Number(median(normalSamples).toFixed(3)), runs: normalSamples.map((x) => Number(x.toFixed(3))), logLikelihood: g.logLikelihood, verdict: g.verdict, degenerate: g.degenerateReasons.map((r) => r.parameter) },
        logLikelihood: f.logLikelihood,
        labels: f.labels,
        converged: f.converged,
        stop: f.stop,
        iterations: f.iterations,
        evaluations: f.evaluations,
        starts: f.starts.length,
        bestStart: f.bestStart,
      },
    };
  },
};
export default bench;
