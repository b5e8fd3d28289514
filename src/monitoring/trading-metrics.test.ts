import { Counter, Gauge, Histogram, Registry, register as promClientGlobalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { populateSampleMetrics, SAMPLE_INSTRUMENTS, SAMPLE_STRATEGY, tickSampleMetrics } from '../../test/support/sample-metrics.js';
import { promtool } from '../../test/support/promtool.js';
import { METRIC_DEFINITIONS } from './metric-definitions.js';
import { createTradingMetrics } from './trading-metrics.js';

/** Families whose value is a plain count or a 0/1 indicator (their name says what is counted; no unit applies). */
const UNITLESS = /_(open_orders|stale_inputs|consecutive_losses|warmup_bars|info|state|tier|signal_value|runner_ready)$/;
const UNIT = /_(usdt|base|seconds|bytes|ratio|basis_points|total)$/;

const valueOf = async (m: ReturnType<typeof createTradingMetrics>, name: string, labels: Record<string, string> = {}) => {
  const family = (await m.registry.getMetricsAsJSON()).find((f) => f.name === name)!;
  return family.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
};

describe('metric definitions', () => {
  it('declare at least 70 families with unique, full-word names carrying their unit', () => {
    expect(METRIC_DEFINITIONS.length).toBeGreaterThanOrEqual(70);
    const names = METRIC_DEFINITIONS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const d of METRIC_DEFINITIONS) {
      expect(d.name).toMatch(/^trade_matrix_[a-z]+(_[a-z]+)*$/);
      expect(d.name.endsWith('_total'), `${d.name}: counters and only counters end in _total`).toBe(d.type === 'counter');
      expect(UNIT.test(d.name) || UNITLESS.test(d.name), `${d.name} needs a unit suffix`).toBe(true);
      expect(d.help).toMatch(/^[A-Z0-9|].*\.$/);
      if (d.type === 'histogram') expect([...d.buckets].sort((a, b) => a - b)).toEqual([...d.buckets]);
      for (const label of d.labels) expect(label).not.toMatch(/id$|_id|price|time/);
    }
  });
});

describe('createTradingMetrics', () => {
  it('keeps its families in its own registries: two instances coexist and prom-client’s global registry stays empty', async () => {
    const a = createTradingMetrics({ processMetrics: false });
    const b = createTradingMetrics({ processMetrics: false });
    a.orderSubmitted(SAMPLE_INSTRUMENTS[0], 'buy');
    expect(await valueOf(a, 'trade_matrix_orders_submitted_total', { side: 'buy' })).toBe(1);
    expect(await valueOf(b, 'trade_matrix_orders_submitted_total', { side: 'buy' })).toBeUndefined();
    expect(promClientGlobalRegistry.getMetricsAsArray()).toHaveLength(0);
    expect((await a.processRegistry.getMetricsAsJSON()).length).toBe(0);
  });

  it('sample values reach every family (the exporter used by the Prometheus test exports all of them)', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    populateSampleMetrics(m, 1_700_000_000_000);
    const empty = (await m.registry.getMetricsAsJSON()).filter((f) => f.values.length === 0).map((f) => f.name);
    expect(empty).toEqual([]);
  });

  it('facade: drawdown from the peak, one-hot tier and breaker state, the model info series follows the loaded version', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    const account = { balance: 0, availableBalance: 0, marginUsed: 0, grossExposure: 20_000, netExposure: 0 };
    m.accountUpdated(SAMPLE_STRATEGY, { ...account, equity: 10_000 });
    m.accountUpdated(SAMPLE_STRATEGY, { ...account, equity: 8_000 });
    expect(await valueOf(m, 'trade_matrix_peak_equity_usdt')).toBe(10_000);
    expect(await valueOf(m, 'trade_matrix_drawdown_ratio')).toBeCloseTo(0.2, 12);
    expect(await valueOf(m, 'trade_matrix_account_leverage_ratio')).toBe(2.5);

    const x = SAMPLE_INSTRUMENTS[0];
    m.tier(x, 'rl', 'rl_sizer_ready');
    m.tier(x, 'kelly', 'no_rl_sizer');
    expect(await valueOf(m, 'trade_matrix_cascade_tier', { tier: 'rl' })).toBe(0);
    expect(await valueOf(m, 'trade_matrix_cascade_tier', { tier: 'kelly' })).toBe(1);
    expect(await valueOf(m, 'trade_matrix_cascade_tier_changes_total', { tier: 'kelly', reason: 'no_rl_sizer' })).toBe(1);

    m.breaker(SAMPLE_STRATEGY, 'open', 'consecutive_losses');
    m.breaker(SAMPLE_STRATEGY, 'half_open', 'cooldown_elapsed');
    expect(await valueOf(m, 'trade_matrix_circuit_breaker_state', { state: 'open' })).toBe(0);
    expect(await valueOf(m, 'trade_matrix_circuit_breaker_state', { state: 'half_open' })).toBe(1);

    m.modelLoaded('m', '1', 'staging', 1_000);
    m.modelLoaded('m', '2', 'production', 2_000);
    const info = (await m.registry.getMetricsAsJSON()).find((f) => f.name === 'trade_matrix_model_info')!;
    expect(info.values.map((v) => v.labels)).toEqual([{ model: 'm', version: '2', stage: 'production' }]);
    expect(await valueOf(m, 'trade_matrix_model_loaded_timestamp_seconds')).toBe(2);

    m.regime(x, ['bear', 'bull'], [0.7, 0.3]);
    m.regime(x, ['bear', 'bull'], [0.6, 0.4]);
    m.regime(x, ['bear', 'bull'], [0.2, 0.8]);
    expect(await valueOf(m, 'trade_matrix_regime_changes_total', { regime: 'bear' })).toBe(1);
    expect(await valueOf(m, 'trade_matrix_regime_changes_total', { regime: 'bull' })).toBe(1);
    expect(await valueOf(m, 'trade_matrix_regime_probability_ratio', { regime: 'bull' })).toBe(0.8);

    m.fill(x, 'sell', 'taker', 0.5, 100, 0.03);
    expect(await valueOf(m, 'trade_matrix_filled_notional_usdt_total', { side: 'sell' })).toBe(50);
    expect(await valueOf(m, 'trade_matrix_fees_paid_usdt_total')).toBe(0.03);
    expect((await m.registry.getMetricsAsJSON()).find((f) => f.name === 'trade_matrix_fill_slippage_basis_points')!.values).toEqual([]);
  });

  it('differential: the cell-backed families print exactly what plain prom-client metrics print for the same updates', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    const reference = new Registry();
    const defs = Object.fromEntries(METRIC_DEFINITIONS.map((d) => [d.name, d]));
    const make = (name: string) => {
      const d = defs[name]!;
      const common = { name, help: d.help, labelNames: [...d.labels], registers: [reference] };
      return d.type === 'counter' ? new Counter(common) : d.type === 'gauge' ? new Gauge(common) : new Histogram({ ...common, buckets: [...d.buckets!] });
    };
    const submitted = make('trade_matrix_orders_submitted_total') as Counter<string>;
    const equity = make('trade_matrix_equity_usdt') as Gauge<string>;
    const decision = make('trade_matrix_bar_close_to_decision_seconds') as Histogram<string>;
    const reconciliation = make('trade_matrix_reconciliation_duration_seconds') as Histogram<string>;
    const [x, y] = SAMPLE_INSTRUMENTS;
    for (let i = 0; i < 50; i++) {
      const side = i % 3 === 0 ? 'sell' : 'buy';
      const instrument = i % 2 === 0 ? x : y;
      m.orderSubmitted(instrument, side);
      submitted.labels(instrument, side).inc();
      const seconds = i === 7 ? 0.025 : 0.0003 * i * i; // spread over every bucket, one exactly on a bound, some over the last (+Inf)
      m.decisionLatency(SAMPLE_STRATEGY, seconds);
      decision.labels(SAMPLE_STRATEGY).observe(seconds);
    }
    for (const bound of [0.01, 0.5, 10, 11]) {
      m.reconciled('clean', bound, 0, []);
      reconciliation.observe(bound);
    }
    m.accountUpdated(SAMPLE_STRATEGY, { equity: 1234.5, balance: 0, availableBalance: 0, marginUsed: 0, grossExposure: 0, netExposure: 0 });
    equity.labels(SAMPLE_STRATEGY).set(1234.5);
    const ours = await m.registry.metrics();
    for (const name of ['trade_matrix_orders_submitted_total', 'trade_matrix_equity_usdt', 'trade_matrix_bar_close_to_decision_seconds', 'trade_matrix_reconciliation_duration_seconds']) {
      const expected = await reference.getSingleMetricAsString(name);
      expect(ours, name).toContain(`${expected}\n`);
    }
    const json = (await m.registry.getMetricsAsJSON()).find((f) => f.name === 'trade_matrix_bar_close_to_decision_seconds')!;
    const referenceJson = (await reference.getMetricsAsJSON()).find((f) => f.name === 'trade_matrix_bar_close_to_decision_seconds')!;
    const plain = (values: typeof json.values) => values.map((v) => ({ value: v.value, labels: v.labels, metricName: (v as { metricName?: string }).metricName }));
    expect(plain(json.values)).toEqual(plain(referenceJson.values));
  });

  it('a non-finite observation stops the run (corrupt data is worse than no data)', () => {
    const m = createTradingMetrics({ processMetrics: false });
    expect(() => m.decisionLatency(SAMPLE_STRATEGY, Number.NaN)).toThrow(/must be finite, was NaN/);
  });
});

describe('bar recorder', () => {
  it('exposes exactly what the six facade calls of a bar expose (signals long, short, flat; histograms included)', async () => {
    const calls = createTradingMetrics({ processMetrics: false });
    const bound = createTradingMetrics({ processMetrics: false });
    const recorder = bound.barRecorder(SAMPLE_INSTRUMENTS[0], SAMPLE_STRATEGY, 'm');
    [0.4, -0.2, 0, 0.7].forEach((signal, k) => {
      const close = 1_700_000_000_000 + k * 14_400_000;
      const [features, inference, total] = [0.0004 * (k + 1), 0.0011 * (k + 1), 0.003 * (k + 1)];
      calls.barClosed(SAMPLE_INSTRUMENTS[0], close, 100 + k, 7 + k, 14_400);
      calls.inference('m', inference);
      calls.signal(SAMPLE_INSTRUMENTS[0], SAMPLE_STRATEGY, signal, Math.abs(signal), signal > 0 ? 'long' : signal < 0 ? 'short' : 'flat');
      calls.barProcessed(SAMPLE_STRATEGY, features, total);
      calls.decisionLatency(SAMPLE_STRATEGY, total);
      calls.heartbeat(close + 5);
      recorder.record(close, 100 + k, 7 + k, 14_400, features, inference, total, total, signal, Math.abs(signal), close + 5);
    });
    // A second instrument's recorder shares the strategy's histograms and the heartbeat; the same recorder is returned
    // for the same labels; the facade's own methods still update series a recorder holds.
    const other = bound.barRecorder(SAMPLE_INSTRUMENTS[1], SAMPLE_STRATEGY, 'm');
    expect(bound.barRecorder(SAMPLE_INSTRUMENTS[1], SAMPLE_STRATEGY, 'm')).toBe(other);
    // (A recorder creates its three direction series at once: feed all three here too.)
    for (const signal of [1, -1, 0]) {
      other.record(1_800_000_000_000, 50, 3, 14_400, 0.0002, 0.003, 0.004, 0.02, signal, 0.9, 1_800_000_000_005);
      calls.barClosed(SAMPLE_INSTRUMENTS[1], 1_800_000_000_000, 50, 3, 14_400);
      calls.inference('m', 0.003);
      calls.signal(SAMPLE_INSTRUMENTS[1], SAMPLE_STRATEGY, signal, 0.9, signal < 0 ? 'short' : signal > 0 ? 'long' : 'flat');
      calls.barProcessed(SAMPLE_STRATEGY, 0.0002, 0.004);
      calls.decisionLatency(SAMPLE_STRATEGY, 0.02);
      calls.heartbeat(1_800_000_000_005);
    }
    for (const m of [calls, bound]) {
      m.decisionLatency(SAMPLE_STRATEGY, 0.5);
      m.barClosed(SAMPLE_INSTRUMENTS[0], 1_900_000_000_000, 101, 9, 14_400);
      m.heartbeat(1_900_000_000_000);
    }
    const text = await bound.exposition();
    expect(text).toBe(await calls.exposition());
    expect(text).toContain('trade_matrix_signals_total{instrument="BTCUSDT-LINEAR.BYBIT",strategy="regime-kelly",direction="flat"} 1');
    expect(() => recorder.record(0, 1, 1, 1, Number.NaN, 0, 0, 0, 0, 0, 0)).toThrow(/must be finite/);
  });
});

describe('promtool check metrics (real promtool)', () => {
  it('the custom registry’s exposition passes with no finding', async () => {
    const m = createTradingMetrics({ processMetrics: true });
    populateSampleMetrics(m, 1_700_000_000_000);
    tickSampleMetrics(m, 1_700_000_001_000);
    const run = promtool(['check', 'metrics'], await m.registry.metrics());
    expect(run.output).toBe('');
    expect(run.status).toBe(0);
  });

  it('prom-client’s default Node metrics trip exactly one lint rule (why they live in processRegistry)', async () => {
    const m = createTradingMetrics({ processMetrics: true });
    const run = promtool(['check', 'metrics'], await m.processRegistry.metrics());
    expect(run.status).not.toBe(0);
    const findings = run.output.trim().split('\n');
    expect(findings.length).toBeGreaterThan(0);
    for (const line of findings) expect(line).toMatch(/^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/);
  });
});
