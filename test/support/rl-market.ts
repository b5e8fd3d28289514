import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { HOUR_MS } from '../../src/core/time.js';
import type { BarFrame } from '../../src/data/index.js';
import type { FittedRegime } from '../../src/engine/strategy.js';
import { SeededRandom } from '../../src/models/index.js';
import { labelStates, makeMsGarchModel } from '../../src/regime/index.js';
import { makeFrame, type Ohlcv } from './frames.js';

export const RL_BTC = BYBIT_LINEAR_PERPETUALS['BTCUSDT']!;
const STEP = 4 * HOUR_MS;
const START = Date.UTC(2024, 0, 1);

/**
 * Synthetic 4h BTCUSDT bars (not market data) whose next log return is the signal plus noise:
 * r_{t+1} = s_t + N(0, noise²), s_t ~ N(0, signalStd²) (defaults 0.3 % and 1 %: IC ≈ 0.29), from `seed`.
 */
export function signalMarket(bars: number, seed: number, signalStd = 0.003, noise = 0.01): { frame: BarFrame; signal: Float64Array } {
  const random = new SeededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(random.nextFloat(), 1e-12))) * Math.cos(2 * Math.PI * random.nextFloat());
  const signal = Float64Array.from({ length: bars }, () => signalStd * normal());
  const close: number[] = [100];
  for (let k = 1; k < bars; k++) close.push(close[k - 1]! * Math.exp(signal[k - 1]! + noise * normal()));
  const ohlcv: Ohlcv[] = close.map((c, k) => {
    const o = k === 0 ? c : close[k - 1]!;
    return [o, Math.max(o, c), Math.min(o, c), c, 1000];
  });
  return { frame: makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars: ohlcv, symbols: ['BTCUSDT'] }), signal };
}

/** A one-state regime (labelled neutral, variance 1e-4 per bar) fitted "before" the synthetic bars. */
export function oneStateRegime(): FittedRegime {
  const model = makeMsGarchModel({ mean: [0], omega: [1e-4], transition: [[1]] });
  return { instrument: RL_BTC.id, symbol: 'BTCUSDT', model, labels: labelStates(model), initialVariance: 1e-4, returnScale: 1, fitStart: START - 100 * STEP, fitEnd: START, returns: 99, logLikelihood: 0, converged: true, seed: 1 };
}
