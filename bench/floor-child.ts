/**
 * Measures one floor of bench/engine-floor.ts (or engine-fills' run without orders) in this process and prints it as
 * one JSON line: `node dist-bench/bench/floor-child.js <bars-eager|bars-lazy|fills|fills-no-orders>`. The engine
 * benches run it through `floorInChild`, one fresh process per figure.
 */
import { barsBenchFrame, ROUNDS as BARS_ROUNDS, RUNS_PER_ROUND } from './engine-bars.bench.js';
import { engineRates, fillsBenchFrame, fillsBenchSpec, ROUNDS as FILLS_ROUNDS, SLIPPAGE_BPS, smaReversalFloor, smaSignalsOnly } from './engine-fills.bench.js';
import { fillsFloorRate, floorRate, type FloorFigure, type FloorKind } from './engine-floor.js';
import { median } from './bench-result.js';

const KINDS: readonly FloorKind[] = ['bars-eager', 'bars-lazy', 'fills', 'fills-no-orders'];
const kind = process.argv[2] as FloorKind;
if (!KINDS.includes(kind)) {
  console.error(`floor-child: the floor must be one of ${KINDS.join(', ')}, was ${JSON.stringify(process.argv[2])}`);
  process.exit(2);
}
let figure: FloorFigure;
if (kind === 'fills-no-orders') {
  const frame = await fillsBenchFrame();
  const { rates, referenceMs, kernel } = await engineRates(fillsBenchSpec(frame), smaSignalsOnly());
  figure = { value: Math.round(median(rates)), rounds: rates.map((r) => Math.round(r)), referenceMs, kernel };
} else if (kind === 'fills') {
  const frame = await fillsBenchFrame();
  const spec = fillsBenchSpec(frame);
  figure = fillsFloorRate(frame, smaReversalFloor(), { rounds: FILLS_ROUNDS, slippageBps: SLIPPAGE_BPS, takerFee: spec.instruments[0]!.takerFee, initialCash: spec.initialCash });
} else {
  figure = floorRate(await barsBenchFrame(), RUNS_PER_ROUND, BARS_ROUNDS, kind === 'bars-lazy' ? 'lazy' : 'eager');
}
console.log(JSON.stringify(figure));
