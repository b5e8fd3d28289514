import { z } from 'zod';
import { AppError } from '../core/app-error.js';
import type { Instrument } from '../core/instrument.js';
import type { Clock } from '../core/time.js';
import type { FittedRegime, Strategy, StrategyContext, StrategySetup } from '../engine/strategy.js';
import { RegimeFilter } from '../regime/index.js';
import { createPositionSizer, parseRiskConfig, RegimeForecast, RollingIc, type PositionSizer, type RiskConfig, type RlSizer, type SizingDecision, type SizingInput } from '../sizing/index.js';
import { parseStrategyParams } from './shared.js';

/** Params of {@link regimeKelly}. */
export const RegimeKellyParams = z
  .object({
    /** Name of the per-bar signal column (an experiment `columns` entry): a predicted log return over `risk.horizonBars`. */
    column: z.string().min(1).default('signal'),
    /**
     * Units of the signal: `log-return` = a forecast of the log return over `risk.horizonBars`; `volatility` = that
     * forecast divided by σ_w · sqrt(horizonBars), σ_w the realised volatility (sample standard deviation of the last
     * `volatilityWindow` one-bar log returns, known at the bar), as models trained on volatility-scaled labels predict.
     */
    signalUnits: z.enum(['log-return', 'volatility']).default('log-return'),
    /** Window of σ_w for `signalUnits: volatility`, in bars. */
    volatilityWindow: z.number().int().min(2).max(10_000).default(42),
    /**
     * Multiplier of the signal: μ = signalScale × signal (log-return units) or signalScale × signal × σ_w ·
     * sqrt(horizonBars) (volatility units). 1 when the column is a calibrated forecast.
     */
    signalScale: z.number().finite().default(1),
    /** Risk config of the position sizer (`RiskConfig` of src/sizing: horizon, Kelly caps, regime fractions, IC, cascade, breaker). */
    risk: z.record(z.string(), z.unknown()).default({}),
    /**
     * Smallest resize worth an order, as |order notional| / equity: a change of size in the same direction below this
     * is skipped (avoids paying fees for tiny rebalances). Opening, closing and reversing always trade. 0 = always.
     */
    minRebalance: z.number().min(0).max(1).default(0.02),
  })
  .strict();
export type RegimeKellyParams = z.output<typeof RegimeKellyParams>;

/** Reason recorded with the tier when the signal column is NaN (no prediction): the target is flat. */
export const NO_SIGNAL_REASON = 'no_signal';

/**
 * Returns the regime-adaptive Kelly strategy. Per instrument, a causal pipeline runs at every bar close:
 *
 * 1. regime: the bar's raw log return ln(close_t / close_{t-1}) updates a `RegimeFilter` of the instrument's MS-GARCH
 *    model (fitted once before the run on bars before the backtest start, handed in as `setup.regimes`); the filter
 *    starts at the model's ergodic distribution with the fit's pre-sample variance, and the first bar only sets
 *    the previous close. Filtered probabilities are annotated (`ctx.annotateRegime`) at every bar;
 * 2. signal: μ = `signalScale` × the `column` value of this bar (NaN = no prediction), times σ_w · sqrt(H) when the
 *    signal is in volatility units (NaN while fewer than `volatilityWindow` returns exist); `RollingIc` takes (μ, close);
 * 3. circuit breaker: fed the bar with the account equity (drawdown), and every closed round trip's PnL (realised
 *    price PnL − fees, from the engine's `onPositionClosed`; funding is not part of it);
 * 4. position sizer (`createPositionSizer`: breaker check → regime-weighted Kelly → RL proposal → cascade → order
 *    quantity) gives the target; without `setup.rlSizers` the tiers are PURE_KELLY or EMERGENCY_FLAT (and PROBE when
 *    `risk.cascade.halfOpenProbeScale` > 0), with one RL
 *    sizer per instrument FULL_RL and BLENDED apply when its confidence and the rolling IC pass the cascade's thresholds; the difference from the current
 *    position is sent as a market order (filled at the next open), unless it only resizes by less than
 *    `minRebalance` × equity. The tier and its reason are annotated (`ctx.annotateTier`); a NaN signal targets flat
 *    with the reason `no_signal` (unless the breaker's EMERGENCY_FLAT applies).
 *
 * Every instrument sizes against the whole account equity: keep `risk.kelly.maxLeverage` × instruments within the
 * experiment's leverage.
 * @throws AppError `invalid_strategy_params` naming the parameter (risk config problems as `$.params.risk.<path>`);
 *   at start, `missing_column` when the column is absent and `missing_regime` when `setup.regimes` does not hold one
 *   fitted regime per instrument (add a `regime` section to the experiment).
 * @example regimeKelly({ signalScale: 0.05, risk: { horizonBars: 6, kelly: { maxLeverage: 0.6 } } }, { regimes })
 */
export function regimeKelly(params: unknown, setup?: StrategySetup): Strategy {
  return buildRegimeKelly(params, setup, false).strategy;
}

/**
 * regime-kelly with each sizing decision deferred (for the RL environment of src/rl/env): at a bar close `onBar`
 * runs steps 1–3 (regime, signal, IC, breaker) and stops; {@link RegimeKellyStepwise.pending} then gives the sizing
 * input of that bar and {@link RegimeKellyStepwise.decide} runs step 4 (sizer decision, tier annotation, order) with
 * the same engine context. Call `decide` before the venue processes the bar's commands (see `BarStepper`), once per
 * pending bar; a bar left undecided places no order.
 * @throws AppError as {@link regimeKelly}.
 */
export function regimeKellyStepwise(params: unknown, setup?: StrategySetup): RegimeKellyStepwise {
  return buildRegimeKelly(params, setup, true);
}

/** What {@link regimeKellyStepwise} returns. */
export interface RegimeKellyStepwise {
  readonly strategy: Strategy;
  /** The sizer and sizing input of instrument `i`'s bar awaiting its decision (undefined when none is pending). */
  pending(i: number): { readonly sizer: PositionSizer; readonly input: SizingInput } | undefined;
  /** Decides instrument `i`'s pending bar and sends its order. @throws AppError `no_pending_decision` when none is pending. */
  decide(i: number): SizingDecision;
}

function buildRegimeKelly(params: unknown, setup: StrategySetup | undefined, defer: boolean): RegimeKellyStepwise {
  const { column, signalUnits, volatilityWindow, signalScale, risk: riskInput, minRebalance } = parseStrategyParams('regime-kelly', RegimeKellyParams, params);
  const parsed = parseRiskConfig(riskInput);
  if (!parsed.success) {
    const e = parsed.error;
    const path = `$.params.risk${String(e.context['path'] ?? '$').slice(1)}`;
    const problem = String(e.context['problem'] ?? e.message);
    throw new AppError('invalid_strategy_params', `strategy regime-kelly: ${path}: ${problem}`, { strategy: 'regime-kelly', path, problem }, { cause: e });
  }
  const risk = parsed.data;
  const horizonRoot = Math.sqrt(risk.horizonBars);
  let pipelines: InstrumentPipeline[] = [];
  /** Step 4 of instrument i's pending bar: sizer decision, tier annotation, order (market, filled at the next open). */
  const decideAndOrder = (i: number): SizingDecision => {
    const p = pipelines[i];
    const input = p?.input;
    const ctx = p?.context;
    if (p === undefined || input === undefined || ctx === undefined) throw new AppError('no_pending_decision', `strategy regime-kelly: instrument ${i} has no bar awaiting its sizing decision`, { instrument: i });
    p.input = undefined;
    const d = p.sizer!.decide(input);
    ctx.annotateTier?.(i, d.tier, Number.isNaN(input.edge) && d.breakerState === 'closed' ? NO_SIGNAL_REASON : d.code);
    ctx.annotateSizing?.(i, d.kellyFraction, d.fraction, input.ic, input.signalConfidence, d.variance / risk.horizonBars);
    const order = d.quantity.orderQuantity;
    if (order === 0 || ctx.openOrderCount(i) > 0) return d;
    const target = d.quantity.targetQuantity;
    const current = input.currentQuantity ?? 0;
    const resize = target !== 0 && Math.sign(target) === Math.sign(current);
    if (resize && Math.abs(order) * input.price < minRebalance * input.equity) return d;
    ctx.submitOrder({ instrument: i, side: order > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(order), tag: d.tier });
    return d;
  };
  const strategy: Strategy = {
    name: 'regime-kelly',
    // the volatility window (for volatility-unit signals) and the rolling IC's window of matured pairs
    warmupBars: (signalUnits === 'volatility' ? volatilityWindow : 0) + risk.ic.window + risk.horizonBars,
    onStart(ctx) {
      const clock: Clock = { now: () => ctx.now() };
      const regimes = setup?.regimes;
      pipelines = ctx.instruments.map((instrument, i) => {
        if (!(column in ctx.history(i).columns)) {
          throw new AppError('missing_column', `strategy regime-kelly: column ${JSON.stringify(column)} is not provided; add it to the experiment's \`columns\` (a prediction model or a feature)`, { column });
        }
        const regime = regimes?.[i];
        if (regime === undefined || regime.instrument !== instrument.id) {
          throw new AppError(
            'missing_regime',
            `strategy regime-kelly: no fitted regime for ${instrument.id} (setup.regimes[${i}] was ${regime === undefined ? 'absent' : regime.instrument}); add a \`regime\` section {fitStart, fitEnd, states, seed} to the experiment`,
            { instrument: instrument.id, index: i },
          );
        }
        return new InstrumentPipeline(regime, risk, clock, instrument, setup?.rlSizers?.[i]);
      });
    },
    onBar(ctx, bar) {
      const i = bar.instrument;
      const p = pipelines[i]!;
      const close = bar.close;
      p.observe(close, bar.tsEvent - bar.tsOpen);
      ctx.annotateRegime?.(i, p.labels, p.filter.filtered);
      const history = ctx.history(i);
      const signal = history.columns[column]![bar.index]!;
      const edge = signalUnits === 'log-return' ? signal * signalScale : signal * signalScale * realizedVolatility(history.close, bar.index, volatilityWindow) * horizonRoot;
      p.ic.update(edge, close);
      const equity = ctx.equity();
      p.sizer!.breaker.onBar(equity);
      p.context = ctx;
      p.input = { edge, regime: p.forecast, ic: p.ic.ic, signalConfidence: p.ic.confidence, equity, price: close, currentQuantity: ctx.position(i) };
      if (!defer) decideAndOrder(i);
    },
    onOrderRejected(_ctx, order) {
      // A refused order counts as an exchange error for the circuit breaker (its burst window and threshold).
      pipelines[order.instrument]?.sizer?.breaker.onExchangeError();
    },
    onStaleInput(_ctx, event) {
      // A stale funding or DVOL input (its features are NaN) counts for the breaker's stale-data trigger.
      pipelines[event.instrument]?.sizer?.breaker.onStaleInput(event.input, event.lastValueTs);
    },
    onPositionClosed(_ctx, trip) {
      // The engine's round trip (one accounting for portfolio, trades table and strategy); the breaker judges the
      // price PnL net of fees, without funding.
      pipelines[trip.instrument]?.sizer?.breaker.onTradeClosed(trip.pnl + trip.funding);
    },
  };
  return {
    strategy,
    pending: (i) => {
      const p = pipelines[i];
      return p?.input !== undefined && p.sizer !== undefined ? { sizer: p.sizer, input: p.input } : undefined;
    },
    decide: decideAndOrder,
  };
}

/**
 * Sample standard deviation (divisor window − 1) of the `window` one-bar log returns ending at bar `t` of `close`
 * (as `realizedVolatility` of src/features); NaN when t < window. Reads only bars <= t; allocates nothing.
 */
function realizedVolatility(close: Float64Array, t: number, window: number): number {
  if (t < window) return Number.NaN;
  let sum = 0, sumSq = 0;
  for (let j = t - window + 1; j <= t; j++) {
    const r = Math.log(close[j]! / close[j - 1]!);
    sum += r;
    sumSq += r * r;
  }
  const mean = sum / window;
  return Math.sqrt(Math.max(0, (sumSq - window * mean * mean) / (window - 1)));
}

/** Everything one instrument's decisions need; updated once per bar, allocation-free except the sizer's decision. */
class InstrumentPipeline {
  readonly labels: readonly string[];
  readonly filter: RegimeFilter;
  readonly forecast: RegimeForecast;
  readonly ic: RollingIc;
  sizer: PositionSizer | undefined;
  /** Sizing input of the bar awaiting its decision, and the engine context it arrived with. */
  input: SizingInput | undefined;
  context: StrategyContext | undefined;
  private readonly returnScale: number;
  private readonly risk: RiskConfig;
  private readonly clock: Clock;
  private readonly instrument: Instrument;
  private readonly rlSizer: RlSizer | undefined;
  private previousClose = Number.NaN;

  constructor(regime: FittedRegime, risk: RiskConfig, clock: Clock, instrument: Instrument, rlSizer: RlSizer | undefined) {
    this.filter = new RegimeFilter(regime.model, { initialVariance: regime.initialVariance });
    this.forecast = new RegimeForecast(this.filter, regime.labels);
    this.labels = this.forecast.labels;
    this.ic = new RollingIc({ window: risk.ic.window, horizonBars: risk.horizonBars, minPairs: risk.ic.minPairs });
    this.returnScale = regime.returnScale;
    this.risk = risk;
    this.clock = clock;
    this.instrument = instrument;
    this.rlSizer = rlSizer;
  }

  /** Takes the bar's close: filters its log return (from the second bar on) and builds the sizer on the first bar (bar length known). */
  observe(close: number, barMs: number): void {
    if (this.sizer === undefined) this.sizer = createPositionSizer(this.risk, { clock: this.clock, instrument: this.instrument, barMs, ...(this.rlSizer ? { rlSizer: this.rlSizer } : {}) });
    if (this.previousClose === this.previousClose) {
      this.filter.update(Math.log(close / this.previousClose) * this.returnScale);
      this.forecast.update();
    }
    this.previousClose = close;
  }
}
