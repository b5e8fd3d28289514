import { parseBacktestConfig, type BacktestConfigInput } from '../../src/config/backtest-config.js';
import type { ExperimentConfig } from '../../src/backtest/run-experiment.js';

/** A valid two-symbol 4h config of the unit tests' `test-spot` venue (January 2024), with `overrides` applied. */
export function unitExperimentConfig(strategy: string, overrides: Partial<BacktestConfigInput> = {}): ExperimentConfig {
  const r = parseBacktestConfig(
    {
      name: 'unit',
      strategy,
      data: { venue: 'test-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' },
      slippage: { model: 'fixed', bps: 1 },
      ...overrides,
    },
    'unit',
  );
  if (!r.success) throw r.error;
  return r.data;
}
