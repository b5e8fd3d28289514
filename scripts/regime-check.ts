/**
 * Regime identifiability check on real data (issue 16 "done when"): for BTC/ETH/SOL binance-spot 4h log returns of
 * bars opening in [2022-01-01, 2025-09-01), fits K = 1..4 MS-GARCH(1,1) with Gaussian and Student-t innovations
 * (default constraints, `onDegenerate: 'report'`) on the whole window and prints per fit: verdict, smallest stay
 * probability, largest alpha + beta, nu, labels and the degenerate reasons; then the K selection by held-out log
 * score (last 25 % held back) and BIC. `--unconstrained` repeats both without the constraints (the interpretability
 * cost is the difference in held-out log score).
 *
 *   npx tsx scripts/regime-check.ts [--seed 1] [--unconstrained]
 * Reads ${TM_SHARED_DATA:-../shared/data}/binance-spot/<SYMBOL>-4h.csv.gz.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fitMsGarch, labelStability, selectRegimeModel, UNCONSTRAINED, type Innovations, type MsGarchFit } from '../src/regime/index.js';

if (process.argv.includes('--help')) {
  console.log('usage: npx tsx scripts/regime-check.ts [--seed N] [--unconstrained]\nFits K = 1..4 MS-GARCH (normal and t) on BTC/ETH/SOL binance-spot 4h 2022-01-01..2025-08-31 and prints the identifiability table and K selection.');
  process.exit(0);
}
const seedArg = process.argv.indexOf('--seed');
const seed = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 1;
const unconstrained = process.argv.includes('--unconstrained');

function loadReturns(symbol: string): Float64Array {
  const file = join(resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data'), 'binance-spot', `${symbol}-4h.csv.gz`);
  const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
  if (lines[0] !== 'ts,open,high,low,close,volume') throw new Error(`${file}: header must be ts,open,high,low,close,volume, was ${lines[0]}`);
  const closes: number[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const cols = line.split(',');
    if (cols[0]! >= '2022-01-01T00:00:00Z' && cols[0]! < '2025-09-01T00:00:00Z') closes.push(Number(cols[4]));
  }
  return Float64Array.from({ length: closes.length - 1 }, (_, t) => Math.log(closes[t + 1]! / closes[t]!));
}

const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
function describe(fit: MsGarchFit): string {
  const m = fit.model, k = m.states;
  let stayMin = 1, persistenceMax = 0;
  for (let s = 0; s < k; s++) { stayMin = Math.min(stayMin, m.transition[s * k + s]!); persistenceMax = Math.max(persistenceMax, m.alpha[s]! + m.beta[s]!); }
  const vol = Array.from(fit.diagnostics.unconditionalVolatility, (v) => (v * 100).toFixed(2)).join('/');
  const nu = fit.innovations === 't' ? Array.from(m.nu, (v) => v.toFixed(1)).join('/') : '-';
  return `| ${k} | ${fit.variance} | ${fit.innovations} | ${fit.verdict} | ${k === 1 ? '-' : fmt(stayMin)} | ${fmt(persistenceMax, 4)} | ${vol} | ${nu} | ${fit.labels.join('/')} | ${fmt(fit.logLikelihood, 1)} | ${fmt(fit.bic, 1)} | ${fit.diagnostics.conditionNumber.toExponential(1)} | ${fit.diagnostics.finalistsAtBest}/${fit.diagnostics.finalists} | ${fit.degenerateReasons.map((r) => r.message).join('; ') || '-'} |`;
}

for (const symbol of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) {
  const returns = loadReturns(symbol);
  console.log(`\n### ${symbol} binance-spot 4h, ${returns.length} log returns 2022-01-01..2025-08-31, seed ${seed}${unconstrained ? ', UNCONSTRAINED' : ''}\n`);
  console.log('| K | variance | innovations | verdict | min stay | max α+β | uncond. vol %/bar | ν | labels | logL | BIC | cond. | finalists at best | degenerate reasons |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const variance of ['garch', 'constant'] as const) for (const innovations of ['normal', 't'] as Innovations[]) {
    for (const states of [1, 2, 3, 4]) {
      if (variance === 'constant' && states === 1) continue;
      const t0 = performance.now();
      try {
        const fit = fitMsGarch(returns, { seed, states, innovations, variance, onDegenerate: 'report', ...(unconstrained ? { constraints: UNCONSTRAINED } : {}) });
        console.log(`${describe(fit)} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      } catch (e) {
        console.log(`| ${states} | ${variance} | ${innovations} | failed | | | | | | | | | | ${(e as Error).message} |`);
      }
    }
  }
  const selection = selectRegimeModel(returns, { seed, holdoutFraction: 0.25, ...(unconstrained ? { constraints: UNCONSTRAINED } : {}) });
  console.log(`\nK selection (${symbol}): fitted on the first ${selection.trainBars} returns, scored on the last ${selection.holdoutBars} (mean one-step log score, return units):\n`);
  console.log('| K | variance | innovations | verdict | held-out log score | train BIC |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of selection.rows) console.log(`| ${r.states} | ${r.variance} | ${r.innovations} | ${r.verdict} | ${fmt(r.holdoutLogScore, 5)} | ${fmt(r.bic, 1)} |`);
  const c = selection.rows[selection.chosen], b = selection.rows[selection.bicChoice];
  console.log(`\nchosen by held-out log score: ${c === undefined ? 'none (all degenerate)' : `K = ${c.states}, ${c.variance}, ${c.innovations}`}; by BIC: ${b === undefined ? 'none' : `K = ${b.states}, ${b.variance}, ${b.innovations}`}`);
  // label stability: 2-year windows every 6 months
  for (const [states, innovations, variance] of [[2, 't', 'garch'], [4, 'normal', 'garch'], [2, 't', 'constant'], [2, 'normal', 'constant']] as const) {
    const st = labelStability(returns, { window: 4380, step: 1095, fit: { seed, states, innovations, variance, ...(unconstrained ? { constraints: UNCONSTRAINED } : {}) } });
    const ok = st.windows.filter((w) => w.verdict === 'ok').length;
    console.log(`label stability K = ${states} ${variance} ${innovations} (2-year windows every 6 months): ${ok}/${st.windows.length} windows non-degenerate; mean agreement with the modal label ${fmt(st.meanAgreement)}; consecutive fits agree on ${Array.from(st.consecutiveAgreement, (a) => fmt(a)).join(', ') || '-'} of bars; refused: ${st.windows.filter((w) => w.verdict !== 'ok').map((w) => `[${w.from}, ${w.to}) ${w.reason?.split(':')[0]}`).join('; ') || 'none'}`);
  }
}
