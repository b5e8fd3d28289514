import { describe, expect, it } from 'vitest';
import { unitExperimentConfig } from '../../test/support/experiment-config.js';
import type { BacktestConfigInput } from '../config/backtest-config.js';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import type { MarketStore } from '../data/index.js';
import type { Strategy, StrategyFactory } from '../engine/strategy.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline } from '../features/index.js';
import { makeMsGarchModel } from '../regime/ms-garch-model.js';
import {
  checkModelCard,
  describeRegimeFit,
  experimentSetup,
  experimentVenueModels,
  ExperimentError,
  fitExperimentRegimes,
  warmupBarsWanted,
  type ExperimentColumnSource,
  type ExperimentConfig,
} from './run-experiment.js';

// Everything here fails (or answers) before the store is read: the store is a stand-in that is never touched.
const NO_STORE = {} as MarketStore;
const idle: StrategyFactory = (): Strategy => ({ name: 'idle' });

const config = (overrides: Partial<BacktestConfigInput> = {}): ExperimentConfig => unitExperimentConfig('idle', overrides);

const data = (symbols: string[], venue = 'test-spot') => ({ venue, symbols, timeframe: '4h', start: '2024-01-01', end: '2024-02-01', missingBars: 'error' as const });

describe('experimentVenueModels', () => {
  it('bybit-linear: the published Bybit rules of each symbol, in config order', () => {
    const m = experimentVenueModels({ instruments: 'bybit-linear', data: data(['SOLUSDT', 'BTCUSDT']), slippage: { model: 'fixed', bps: 0 } });
    expect(m.instruments).toEqual([BYBIT_LINEAR_PERPETUALS['SOLUSDT'], BYBIT_LINEAR_PERPETUALS['BTCUSDT']]);
  });

  it('bybit-linear: a symbol without rules is an unknown_instrument naming its JSON path and the known symbols', () => {
    for (const symbol of ['DOGEUSDT', 'toString']) {
      expect(() => experimentVenueModels({ instruments: 'bybit-linear', data: data(['BTCUSDT', symbol]), slippage: { model: 'fixed', bps: 0 } })).toThrow(
        expect.objectContaining({
          name: 'ExperimentError',
          code: 'unknown_instrument',
          message: `no Bybit USDT linear perpetual rules for ${JSON.stringify(symbol)}; known: BTCUSDT, ETHUSDT, SOLUSDT`,
          context: { path: '$.data.symbols[1]', symbol },
        }),
      );
    }
  });

  it('spot: USDT pairs on the data venue with their base currency', () => {
    const m = experimentVenueModels({ instruments: 'spot', data: data(['ETHUSDT', 'XUSDT'], 'binance-spot'), slippage: { model: 'fixed', bps: 0 } });
    expect(m.instruments.map((x) => [x.id, x.kind, x.venue, x.baseCurrency, x.quoteCurrency])).toEqual([
      ['ETHUSDT-SPOT.BINANCE-SPOT', 'spot', 'BINANCE-SPOT', 'ETH', 'USDT'],
      ['XUSDT-SPOT.BINANCE-SPOT', 'spot', 'BINANCE-SPOT', 'X', 'USDT'],
    ]);
  });

  it('spot: anything but a USDT pair (a non-USDT quote, or "USDT" alone) is an unknown_instrument', () => {
    for (const symbol of ['BTCUSD', 'USDT']) {
      expect(() => experimentVenueModels({ instruments: 'spot', data: data(['BTCUSDT', symbol]), slippage: { model: 'fixed', bps: 0 } })).toThrow(
        expect.objectContaining({
          code: 'unknown_instrument',
          message: `spot rules need a USDT pair like BTCUSDT, was ${JSON.stringify(symbol)}`,
          context: { path: '$.data.symbols[1]', symbol },
        }),
      );
    }
  });

  it("fees: the instruments' own rates, each replaced only where the config sets it", () => {
    const btc = BYBIT_LINEAR_PERPETUALS['BTCUSDT']!; // maker 0.0002, taker 0.00055
    const base = { instruments: 'bybit-linear' as const, data: data(['BTCUSDT']), slippage: { model: 'fixed' as const, bps: 0 } };
    const own = experimentVenueModels(base).fees;
    expect([own.fee(btc, 1000, 'maker'), own.fee(btc, 1000, 'taker')]).toEqual([expect.closeTo(0.2, 12), expect.closeTo(0.55, 12)]);
    const maker = experimentVenueModels({ ...base, fees: { maker: 0 } }).fees;
    expect([maker.fee(btc, 1000, 'maker'), maker.fee(btc, 1000, 'taker')]).toEqual([0, expect.closeTo(0.55, 12)]);
    const taker = experimentVenueModels({ ...base, fees: { taker: 0.001 } }).fees;
    expect([taker.fee(btc, 1000, 'maker'), taker.fee(btc, 1000, 'taker')]).toEqual([expect.closeTo(0.2, 12), expect.closeTo(1, 12)]);
  });

  it('slippage: fixed bps, or volume participation with the configured parameters', () => {
    const fixed = experimentVenueModels({ instruments: 'spot', data: data(['BTCUSDT']), slippage: { model: 'fixed', bps: 10 } }).slippage;
    expect(fixed.fillPrice('buy', 100, 1, 1000)).toBeCloseTo(100.1, 10);
    const volume = experimentVenueModels({ instruments: 'spot', data: data(['BTCUSDT']), slippage: { model: 'volume', baseBps: 2, impactBps: 40, exponent: 1, maxBps: 30 } }).slippage;
    // 2 + 40 × (25 / 100) = 12 bps; at participation 1: 2 + 40 = 42 → capped at 30 bps
    expect(volume.fillPrice('buy', 100, 25, 100)).toBeCloseTo(100.12, 10);
    expect(volume.fillPrice('sell', 100, 100, 100)).toBeCloseTo(99.7, 10);
  });
});

describe('checkModelCard', () => {
  const source: Extract<ExperimentColumnSource, { source: 'model' }> = {
    source: 'model',
    model: 'pkg',
    fundingVenue: 'binance-futures',
    reference: 'BTCUSDT',
    dvol: true,
    allowInSample: false,
    allowUngated: false,
  };
  const model = (gatesPassed: boolean) => ({ card: { name: 'direction', dataRange: { from: '2023-01-01', to: '2024-01-01' }, gatesPassed }, version: 'local-0123abcd' });
  const window = (from: string, to: string) => ({ column: 'sig', source, symbol: 'BTCUSDT', from: Date.parse(from), to: Date.parse(to), window: `the backtest [${from}, ${to})` });

  it('out of sample and gated: the note names the model, version, training range and symbol', () => {
    expect(checkModelCard(model(true), window('2024-01-01', '2024-03-01'))).toBe(
      'column sig: model direction (local-0123abcd, trained on [2023-01-01, 2024-01-01), gates passed) streamed for BTCUSDT through the signal stage (features → ONNX per bar)',
    );
  });

  it('refuses a window overlapping the training range unless allowInSample, and then says IN-SAMPLE', () => {
    expect(() => checkModelCard(model(true), window('2023-12-01', '2024-03-01'))).toThrow(
      expect.objectContaining({
        name: 'ExperimentError',
        code: 'invalid_model',
        message: 'column sig: model direction was trained on [2023-01-01, 2024-01-01), which overlaps the backtest [2023-12-01, 2024-03-01); set $.columns.sig.allowInSample to run it in-sample',
        context: { path: '$.columns.sig.allowInSample' },
      }),
    );
    expect(checkModelCard(model(true), { ...window('2023-12-01', '2024-03-01'), source: { ...source, allowInSample: true } })).toBe(
      'column sig: model direction (local-0123abcd, trained on [2023-01-01, 2024-01-01), gates passed) streamed for BTCUSDT through the signal stage (features → ONNX per bar) — IN-SAMPLE: the backtest [2023-12-01, 2024-03-01) overlaps the training range',
    );
  });

  it('refuses a model that failed its gates unless allowUngated, and then says UNGATED', () => {
    expect(() => checkModelCard(model(false), window('2024-01-01', '2024-03-01'))).toThrow(
      expect.objectContaining({
        code: 'invalid_model',
        message: 'column sig: model direction failed its quality gates; set $.columns.sig.allowUngated to run it anyway',
        context: { path: '$.columns.sig.allowUngated' },
      }),
    );
    expect(checkModelCard(model(false), { ...window('2024-01-01', '2024-03-01'), source: { ...source, allowUngated: true } })).toBe(
      'column sig: model direction (local-0123abcd, trained on [2023-01-01, 2024-01-01), gates FAILED) streamed for BTCUSDT through the signal stage (features → ONNX per bar) — UNGATED: run although its quality gates failed',
    );
  });
});

describe('warmupBarsWanted', () => {
  const strategy = (warmupBars?: number): Strategy => ({ name: 's', ...(warmupBars !== undefined ? { warmupBars } : {}) });

  it('a number of bars as given; none configured: 0', () => {
    expect(warmupBarsWanted(config({ warmup: 7 }), strategy(50), '4h')).toBe(7);
    expect(warmupBarsWanted({ ...config(), warmup: undefined }, strategy(50), '4h')).toBe(0);
  });

  it('a duration in whole bars of the timeframe, rounded up', () => {
    expect(warmupBarsWanted(config({ warmup: '30d' }), strategy(), '4h')).toBe(180);
    expect(warmupBarsWanted(config({ warmup: '5h' }), strategy(), '4h')).toBe(2);
    expect(warmupBarsWanted(config({ warmup: '90m' }), strategy(), '1h')).toBe(2);
    expect(warmupBarsWanted(config({ warmup: '2w' }), strategy(), '1d')).toBe(14);
  });

  it("auto: the largest of the strategy's warm-up and its feature columns' (predictions need none)", () => {
    const feature = (lookback: number) => ({ source: 'feature' as const, feature: 'log-momentum', params: { lookback } });
    expect(warmupBarsWanted(config({ warmup: 'auto' }), strategy(), '4h')).toBe(0);
    expect(warmupBarsWanted(config({ warmup: 'auto' }), strategy(12), '4h')).toBe(12);
    expect(warmupBarsWanted(config({ warmup: 'auto', columns: { a: feature(20), b: feature(5) } }), strategy(12), '4h')).toBe(20);
    expect(warmupBarsWanted(config({ warmup: 'auto', columns: { a: feature(5) } }), strategy(12), '4h')).toBe(12);
    expect(warmupBarsWanted(config({ warmup: 'auto', columns: { p: { source: 'predictions', model: 'm1' } } }), strategy(3), '4h')).toBe(3);
  });

  it("auto with a model column: at least the signal stage's feature pipeline warm-up", () => {
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC).warmupBars;
    expect(pipeline).toBeGreaterThan(1);
    const c = config({ warmup: 'auto', columns: { sig: { source: 'model', model: 'pkg' } } });
    expect(warmupBarsWanted(c, strategy(1), '4h')).toBe(pipeline);
    expect(warmupBarsWanted(c, strategy(pipeline + 10), '4h')).toBe(pipeline + 10);
  });
});

// parseBacktestConfig refuses these windows too; fitExperimentRegimes checks them again for configs built in code.
describe('fitExperimentRegimes: the regime section is checked before any bar is read', () => {
  const instruments = () => experimentVenueModels(config()).instruments;

  it('no regime section', async () => {
    await expect(fitExperimentRegimes(NO_STORE, config(), instruments())).rejects.toMatchObject({
      code: 'invalid_regime',
      message: 'the experiment has no `regime` section to fit',
      context: { path: '$.regime' },
    });
  });

  it('an empty fit window (fitEnd not after fitStart)', async () => {
    for (const fitEnd of ['2023-06-01', '2023-05-01']) {
      const c = { ...config(), regime: { fitStart: '2023-06-01', fitEnd, states: 2, seed: 1 } };
      await expect(fitExperimentRegimes(NO_STORE, c, instruments())).rejects.toMatchObject({
        code: 'invalid_regime',
        message: `regime.fitEnd must be after regime.fitStart (2023-06-01), was "${fitEnd}"`,
        context: { path: '$.regime.fitEnd', value: fitEnd },
      });
    }
  });

  it('a fit window reaching into the backtest (fitEnd after data.start)', async () => {
    const c = { ...config(), regime: { fitStart: '2023-06-01', fitEnd: '2024-01-02', states: 2, seed: 1 } };
    await expect(fitExperimentRegimes(NO_STORE, c, instruments())).rejects.toMatchObject({
      name: 'ExperimentError',
      code: 'invalid_regime',
      message: 'regime.fitEnd must be <= data.start (2024-01-01): the regime is fitted only on bars before the backtest, was "2024-01-02"',
      context: { path: '$.regime.fitEnd', value: '2024-01-02' },
    });
  });
});

describe('experimentSetup: config-shaped problems fail by JSON path before any data is read', () => {
  const deps = { store: NO_STORE, strategies: { idle, other: idle } };

  it('an unknown strategy (own keys only) names the known ones', async () => {
    for (const strategy of ['nope', 'toString']) {
      await expect(experimentSetup({ ...config(), strategy }, deps)).rejects.toMatchObject({
        name: 'ExperimentError',
        code: 'unknown_strategy',
        message: `strategy must be one of idle, other, was ${JSON.stringify(strategy)}`,
        context: { path: '$.strategy', strategy },
      });
    }
  });

  it('the strategy factory checks the params first', async () => {
    const strict: StrategyFactory = (params) => {
      throw new ExperimentError('invalid_model', `params ${JSON.stringify(params)}`);
    };
    await expect(experimentSetup(config({ strategy: 'strict', params: { a: 1 } }), { store: NO_STORE, strategies: { strict } })).rejects.toThrow('params {"a":1}');
  });

  it('an unknown feature (own keys only) names the known ones and the column', async () => {
    for (const feature of ['nope', 'constructor']) {
      await expect(experimentSetup(config({ columns: { mom: { source: 'feature', feature, params: {} } } }), deps)).rejects.toMatchObject({
        code: 'unknown_feature',
        message: `feature must be one of log-momentum, was ${JSON.stringify(feature)}`,
        context: { path: '$.columns.mom.feature', feature },
      });
    }
  });

  it('invalid feature params name the offending param (a bad value, a missing one, an unknown key)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ lookback: 0 }, '$.columns.mom.params.lookback'],
      [{}, '$.columns.mom.params.lookback'],
      [{ lookback: 5, window: 3, extra: 1 }, '$.columns.mom.params.window'],
    ];
    // params that are not an object at all (a config built in code): the params themselves are named
    const notObject = { ...config(), columns: { mom: { source: 'feature' as const, feature: 'log-momentum', params: 5 as unknown as Record<string, unknown> } } };
    await expect(experimentSetup(notObject, deps)).rejects.toMatchObject({ code: 'invalid_feature_params', context: { path: '$.columns.mom.params' } });
    for (const [params, path] of cases) {
      const run = experimentSetup(config({ columns: { ok: { source: 'feature', feature: 'log-momentum', params: { lookback: 2 } }, mom: { source: 'feature', feature: 'log-momentum', params } } }), deps);
      await expect(run).rejects.toMatchObject({ code: 'invalid_feature_params', context: { path, feature: 'log-momentum' } });
      await expect(run).rejects.toThrow(new RegExp(`^feature log-momentum: .+, params were ${JSON.stringify(params).replace(/[{}]/g, '\\$&')}$`));
    }
  });

  it('an unparsable date names its field (configs built in code skip the parser)', async () => {
    const base = config();
    await expect(experimentSetup({ ...base, data: { ...base.data, start: 'soon' } }, deps)).rejects.toMatchObject({ code: 'invalid_timestamp', context: { field: 'data.start', value: 'soon' } });
    await expect(experimentSetup({ ...base, data: { ...base.data, end: 'later' } }, deps)).rejects.toMatchObject({ code: 'invalid_timestamp', context: { field: 'data.end', value: 'later' } });
    const instruments = experimentVenueModels(base).instruments;
    const regime = { fitStart: '2023-01-01', fitEnd: '2023-06-01', states: 2, seed: 1 };
    for (const [c, field] of [
      [{ ...base, regime: { ...regime, fitStart: 'x' } }, 'regime.fitStart'],
      [{ ...base, regime: { ...regime, fitEnd: 'x' } }, 'regime.fitEnd'],
      [{ ...base, regime, data: { ...base.data, start: 'x' } }, 'data.start'],
    ] as const) {
      await expect(fitExperimentRegimes(NO_STORE, c, instruments)).rejects.toMatchObject({ code: 'invalid_timestamp', context: { field } });
    }
  });

  it('an unknown instrument is reported before the feature columns', async () => {
    const c = config({ data: { venue: 'x', symbols: ['DOGEUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' }, columns: { mom: { source: 'feature', feature: 'nope', params: {} } } });
    await expect(experimentSetup(c, deps)).rejects.toMatchObject({ code: 'unknown_instrument' });
  });
});

describe('describeRegimeFit', () => {
  it('says NOT converged for a fit that stopped on its iteration limit (no quick series fails to converge)', () => {
    // ω / (1 − α − β) = 0.0002 / 0.2 = 0.001 → vol 0.03162; 0.00001 / 0.2 → 0.007071
    const model = makeMsGarchModel({ mean: [-0.002, 0.001], omega: [0.0002, 0.00001], alpha: [0.1, 0.05], beta: [0.7, 0.75], transition: [[0.9, 0.1], [0.05, 0.95]] });
    const fit = {
      instrument: 'BTCUSDT-SPOT.X', symbol: 'BTCUSDT', model, labels: ['crisis', 'bull'] as const, initialVariance: 0.0001, returnScale: 1,
      fitStart: Date.UTC(2024, 0, 1), fitEnd: Date.UTC(2024, 1, 1), returns: 185, logLikelihood: 400, converged: false, seed: 7,
    };
    expect(describeRegimeFit(fit, '4h')).toBe(
      'BTCUSDT-SPOT.X: regime = 2-state MS-GARCH(1,1) fitted on 185 BTCUSDT 4h log returns of bars opening in [2024-01-01T00:00:00Z, 2024-02-01T00:00:00Z) ' +
        '(before the backtest; seed 7, NOT converged): crisis mean -0.002 unconditional vol 0.03162 stay 0.9; bull mean 0.001 unconditional vol 0.007071 stay 0.95',
    );
  });
});
