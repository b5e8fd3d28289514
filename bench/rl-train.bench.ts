import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { experimentSetup } from '../src/backtest/index.js';
import { loadConfig } from '../src/config/backtest-config.js';
import { unwrap } from '../src/core/result.js';
import { importPath, MarketStore } from '../src/data/index.js';
import { createSacAgent, loadRlTrainConfig, SIZING_OBSERVATION_NAMES, trainCurriculum, type CurriculumConfig, type SacUpdateStats } from '../src/rl/index.js';
import { STRATEGIES } from '../src/strategies/index.js';
import type { Benchmark } from './bench-result.js';

const CONFIG = 'experiments/rl/sac-momentum-4h.json';
/** Gradient steps per window of the convergence criterion. */
const WINDOW = 100;
/** Largest relative change of the windowed mean twin-Q loss between consecutive windows. */
const MAX_LOSS_CHANGE = 0.1;
/** Largest change of the windowed mean policy entropy (nats) between consecutive windows. */
const MAX_ENTROPY_CHANGE = 0.1;
/** Decisions per symbol at most: the config's curriculum, then its last stage continued up to this cap. */
const CAP_STEPS = 3000;

/**
 * Convergence criterion (stated here, checked after every gradient step): with the gradient steps cut into
 * consecutive windows of {@link WINDOW}, training has converged at the end of window k >= 3 when, for the two
 * window pairs (k−2, k−1) and (k−1, k), the mean twin-Q loss (sum of both critics' TD MSE) changed by less than
 * {@link MAX_LOSS_CHANGE} relative to the earlier window AND the mean policy entropy by less than
 * {@link MAX_ENTROPY_CHANGE} nats. It says the critics' fit and the policy's spread have stopped moving, not that
 * the policy is good (the OOS table says that).
 */
class ConvergenceCheck {
  private loss = 0;
  private entropy = 0;
  private steps = 0;
  private readonly windows: { loss: number; entropy: number }[] = [];
  add(u: SacUpdateStats): boolean {
    this.loss += u.criticLoss;
    this.entropy += u.entropy;
    if (++this.steps < WINDOW) return false;
    this.windows.push({ loss: this.loss / WINDOW, entropy: this.entropy / WINDOW });
    this.loss = this.entropy = this.steps = 0;
    const w = this.windows, k = w.length - 1;
    if (k < 2) return false;
    const stable = (a: { loss: number; entropy: number }, b: { loss: number; entropy: number }) => Math.abs(b.loss - a.loss) < MAX_LOSS_CHANGE * Math.abs(a.loss) && Math.abs(b.entropy - a.entropy) < MAX_ENTROPY_CHANGE;
    return stable(w[k - 2]!, w[k - 1]!) && stable(w[k - 1]!, w[k]!);
  }
  get windowMeans(): readonly { loss: number; entropy: number }[] {
    return this.windows;
  }
}

class Converged extends Error {}

/**
 * Wall time of SAC sizer training to the {@link ConvergenceCheck} criterion on BTC/ETH/SOL 4h (binance-spot
 * 2022-01-01..2025-09-01, the sizing pipeline of experiments/momentum-regime-kelly.json through the real engine):
 * one agent per symbol with the SAC and curriculum settings of experiments/rl/sac-momentum-4h.json (64-64, batch 64,
 * tfjs cpu backend), trained on all the symbol's bars, symbols one after the other; each stops at convergence or at
 * {@link CAP_STEPS} decisions. Value = summed training wall time (store import, experiment setup and regime fits are
 * not timed; `details.setupSeconds` has them); NaN (a miss) when a symbol did not converge within the cap.
 * Target 600 s (the emulated system: 45 min).
 */
const bench: Benchmark = {
  name: 'rl-train',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const load = [loadavg()[0]!];
    const store = await MarketStore.open(':memory:');
    const setupStart = performance.now();
    await importPath(store, join(root, 'binance-spot'));
    for (const s of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
    const config = unwrap(await loadRlTrainConfig(CONFIG));
    const experiment = unwrap(await loadConfig(config.experiment));
    let setupSeconds = (performance.now() - setupStart) / 1000;
    const stages = config.curriculum.stages;
    const planned = stages.reduce((s, x) => s + x.steps, 0);
    const curriculum: CurriculumConfig = { ...config.curriculum, stages: [...stages, { ...stages.at(-1)!, steps: Math.max(1, CAP_STEPS - planned) }] };
    const perSymbol = [];
    let total = 0;
    for (const symbol of experiment.data.symbols) {
      const t0 = performance.now();
      const setup = await experimentSetup({ ...experiment, data: { ...experiment.data, symbols: [symbol] } }, { store, strategies: STRATEGIES });
      setupSeconds += (performance.now() - t0) / 1000;
      const agent = await createSacAgent(config.sac, { observationSize: SIZING_OBSERVATION_NAMES.length, actionSize: 1 });
      const check = new ConvergenceCheck();
      let decisions = 0, gradientSteps = 0, converged = false;
      const start = performance.now();
      try {
        trainCurriculum(agent, { spec: setup.spec, regime: setup.regimes![0]!, strategyParams: experiment.params, config: config.environment }, curriculum, {
          onProgress: (p) => {
            decisions++;
            if (p.update === null) return; // no gradient step yet (learning starts after config.sac.learningStarts transitions)
            gradientSteps++;
            if (check.add(p.update)) throw new Converged();
          },
        });
      } catch (e) {
        if (!(e instanceof Converged)) throw e;
        converged = true;
      } finally {
        agent.dispose();
      }
      const seconds = (performance.now() - start) / 1000;
      total += seconds;
      load.push(loadavg()[0]!);
      perSymbol.push({ symbol, converged, seconds: Number(seconds.toFixed(1)), decisions, gradientSteps, windows: check.windowMeans.map((w) => ({ loss: Number(w.loss.toPrecision(4)), entropy: Number(w.entropy.toPrecision(4)) })) });
    }
    store.close();
    const all = perSymbol.every((s) => s.converged);
    return {
      name: 'rl-train',
      value: all ? Number(total.toFixed(1)) : Number.NaN,
      unit: 's',
      target: 600,
      better: 'lower',
      details: {
        config: CONFIG,
        criterion: `windows of ${WINDOW} gradient steps; converged when two consecutive window pairs change the mean twin-Q loss by < ${MAX_LOSS_CHANGE * 100} % and the mean policy entropy by < ${MAX_ENTROPY_CHANGE} nats; cap ${CAP_STEPS} decisions per symbol`,
        trainingSecondsIncludingUnconverged: Number(total.toFixed(1)),
        setupSeconds: Number(setupSeconds.toFixed(1)),
        hiddenSizes: config.sac.hiddenSizes,
        batchSize: config.sac.batchSize,
        perSymbol,
        loadAverage1m: load.map((x) => Number(x.toFixed(2))),
        cpus: cpus().length,
      },
    };
  },
};
export default bench;
