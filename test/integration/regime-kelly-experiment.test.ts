import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestResult } from '../../src/backtest/backtest-result.js';
import { computeMetrics, tierAttribution } from '../../src/backtest/metrics.js';
import { plotIds, summarize, writeReport } from '../../src/backtest/report.js';
import { ExperimentError, fitExperimentRegimes, runExperiment } from '../../src/backtest/run-experiment.js';
import { compareSummaries } from '../../src/cli/backtest-command.js';
import { loadConfig, type BacktestConfig } from '../../src/config/backtest-config.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { parseUtcMs } from '../../src/core/time.js';
import { importPath, MarketStore } from '../../src/data/index.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';

/**
 * experiments/momentum-regime-kelly.json end to end on the real shared data: MS-GARCH fitted before the start,
 * regime-kelly through runExperiment, annotations, tier attribution, summary vs the committed baseline, the report
 * in headless Chromium, and causality (a shorter run is a prefix of the longer one). Needs /usr/bin/chromium.
 */

const CHROMIUM = '/usr/bin/chromium';

async function config(file: string): Promise<BacktestConfig> {
  const loaded = await loadConfig(file);
  if (!loaded.success) throw loaded.error;
  return loaded.data;
}

describe('momentum-regime-kelly experiment (real shared data)', () => {
  const dir = tempDir('tm-regime-kelly-');
  let store: MarketStore;
  let momentum: BacktestConfig;
  let first: BacktestResult;

  beforeAll(async () => {
    store = await MarketStore.open(join(dir, 'market.duckdb'));
    await importPath(store, sharedDataDir());
    momentum = await config('experiments/momentum-regime-kelly.json');
    first = await runExperiment(momentum, { store, strategies: STRATEGIES });
  }, 120_000);
  afterAll(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fits one 4-state regime per symbol on bars strictly before data.start', async () => {
    const regimes = await fitExperimentRegimes(store, momentum, ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'].map((s) => BYBIT_LINEAR_PERPETUALS[s]!));
    expect(regimes.map((r) => r.instrument)).toEqual(first.instruments);
    for (const r of regimes) {
      // labels from mean and volatility jointly (labelStates): crisis or bear first, bull last, neutral between
      expect(r.labels).toHaveLength(4);
      expect(['crisis', 'bear']).toContain(r.labels[0]);
      expect(r.labels[3]).toBe('bull');
      expect(r.labels.slice(1, 3).every((l) => l === 'bear' || l === 'neutral')).toBe(true);
      expect(r.fitStart).toBe(parseUtcMs('2020-09-01'));
      expect(r.fitEnd).toBeLessThanOrEqual(parseUtcMs(momentum.data.start));
      // 2020-09-01..2022-01-01 is 487 days of 6 bars: 2922 bars, 2921 returns (no gaps in this window)
      expect(r.returns).toBe(2921);
    }
    expect(first.notes.filter((n) => n.includes('regime = 4-state MS-GARCH(1,1) fitted on 2921'))).toHaveLength(3);
    // the experiment keeps degenerate fits on purpose (regime.onDegenerate: report) and the notes say why
    expect(first.notes.filter((n) => n.includes('DEGENERATE fit, kept because regime.onDegenerate is "report"')).length).toBe(regimes.filter((r) => r.degenerate).length);
  });

  it('is deterministic, matches its baseline, and carries annotations whose tier times sum to 1', async () => {
    const second = await runExperiment(momentum, { store, strategies: STRATEGIES });
    const metrics = computeMetrics(first);
    const summary = summarize(first, metrics);
    expect(JSON.stringify(summarize(second, computeMetrics(second)))).toBe(JSON.stringify(summary));
    const baseline = JSON.parse(readFileSync('experiments/baselines/momentum-regime-kelly.json', 'utf8')) as unknown;
    expect(compareSummaries(baseline, JSON.parse(JSON.stringify(summary)))).toEqual([]);

    const bars = first.equity.ts.length;
    const regimes = first.annotations?.regimeProbabilities ?? [];
    expect(regimes.map((r) => r.instrument)).toEqual(first.instruments);
    for (const r of regimes) {
      expect(r.labels).toHaveLength(4);
      expect(r.labels[3]).toBe('bull');
      expect(Array.from(r.ts)).toEqual(Array.from(first.equity.ts));
      for (let t = 0; t < bars; t += 97) expect(r.probabilities.reduce((s, p) => s + p[t]!, 0)).toBeCloseTo(1, 12);
    }
    const tiers = first.annotations?.tiers ?? [];
    expect(new Set(tiers.map((t) => t.tier))).toEqual(new Set(['PURE_KELLY', 'EMERGENCY_FLAT']));
    expect(tiers.some((t) => t.reason === 'breaker_open')).toBe(true);
    // EMERGENCY_FLAT is truly flat (no PROBE tier: cascade.halfOpenProbeScale is 0 by default): every bar it is in
    // force holds no position after the open's fill, so its only PnL is the flattening fill of its first bar
    for (let i = 0; i < first.instruments.length; i++) {
      const b = first.bars[i]!;
      const own = tiers.filter((t) => t.instrument === first.instruments[i]);
      let k = 0, tier = 'none', flatBars = 0;
      for (let t = 0; t < b.ts.length; t++) {
        const before = tier;
        while (k < own.length && own[k]!.ts <= b.ts[t]!) tier = own[k++]!.tier;
        if (tier !== 'EMERGENCY_FLAT') continue;
        flatBars++;
        expect(b.position[t]).toBe(0);
        if (before === 'EMERGENCY_FLAT') expect(b.pnl![t]).toBe(b.pnl![t - 1]);
      }
      expect(flatBars).toBeGreaterThan(0);
    }

    const a = tierAttribution(first)!;
    const sum = (rows: readonly { timeFraction: number }[]) => rows.reduce((s, x) => s + x.timeFraction, 0);
    expect(sum(a.total)).toBeCloseTo(1, 12);
    for (const b of a.byInstrument) expect(sum(b.tiers)).toBeCloseTo(1, 12);
    expect(a.total.reduce((s, x) => s + x.pnl!, 0)).toBeCloseTo(metrics.finalEquity - first.initialCash, 6);
    expect(summary.tierAttribution?.total.find((x) => x.tier === 'PURE_KELLY')!.timeFraction).toBeGreaterThan(0.5);
  });

  it('writes a report whose annotation plots render in headless Chromium', { timeout: 120_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing; install it with: apt-get install -y chromium`).toBe(true);
    const { htmlPath } = await writeReport(join(dir, 'report'), first);
    const ids = plotIds(first);
    expect(ids).toEqual(expect.arrayContaining(['plot-tiers', 'plot-regime-0', 'plot-regime-1', 'plot-regime-2']));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => void errors.push(String(e)));
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load', timeout: 60_000 });
      await page.waitForFunction('window.__plotsRendered !== undefined || window.__plotsError !== undefined', undefined, { timeout: 60_000 });
      const state = (await page.evaluate(`(() => ({
        rendered: window.__plotsRendered,
        error: window.__plotsError,
        withSvg: Array.from(document.querySelectorAll('div.plot')).filter((d) => d.querySelector('.main-svg') !== null).map((d) => d.id),
        tierRows: document.querySelectorAll('#tier-attribution tbody tr').length,
      }))()`)) as { rendered?: number; error?: string; withSvg: string[]; tierRows: number };
      expect(state.error).toBeUndefined();
      expect(state.rendered).toBe(ids.length);
      expect(state.withSvg).toEqual(ids);
      expect(state.tierRows).toBe(tierAttribution(first)!.total.length);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('is causal: a run ending earlier is a prefix of the full run (regime probabilities, tiers, fills, equity)', async () => {
    const cutoff = '2023-06-01';
    const short = await runExperiment({ ...momentum, data: { ...momentum.data, end: cutoff } }, { store, strategies: STRATEGIES });
    const n = short.equity.ts.length;
    expect(n).toBeGreaterThan(3000);
    expect(Array.from(first.equity.ts.subarray(0, n))).toEqual(Array.from(short.equity.ts));
    expect(Array.from(first.equity.value.subarray(0, n))).toEqual(Array.from(short.equity.value));
    const lastClose = short.equity.ts[n - 1]!;
    first.annotations!.regimeProbabilities!.forEach((r, j) => {
      const s = short.annotations!.regimeProbabilities![j]!;
      r.probabilities.forEach((p, k) => expect(Array.from(p.subarray(0, n))).toEqual(Array.from(s.probabilities[k]!)));
    });
    expect(first.annotations!.tiers!.filter((t) => t.ts <= lastClose)).toEqual(short.annotations!.tiers);
    const end = parseUtcMs(cutoff);
    expect(first.fills.filter((f) => f.ts < end)).toEqual(short.fills);
  });

  it('gbdt-regime-kelly fails with the existing missing-predictions message when the store has no gbdt-transfer predictions', async () => {
    const gbdt = await config('experiments/gbdt-regime-kelly.json');
    expect(gbdt.columns['signal']).toEqual({ source: 'predictions', model: 'gbdt-transfer' });
    const failure = await runExperiment(gbdt, { store, strategies: STRATEGIES }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ExperimentError);
    expect((failure as ExperimentError).code).toBe('missing_predictions');
    expect((failure as ExperimentError).message).toContain('column signal: the store has no predictions of model "gbdt-transfer"');
    expect((failure as ExperimentError).message).toContain('`tm train`');
  });
});
