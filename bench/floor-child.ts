/**
 * Measures one floor of bench/engine-floor.ts in this process and prints it as one JSON line:
 * `node dist-bench/bench/floor-child.js <bars-eager|bars-lazy|fills>`. The engine benches run it through
 * `floorInChild`, one fresh process per floor.
 */
import { barsBenchFrame, ROUNDS as BARS_ROUNDS, RUNS_PER_ROUND } from './engine-bars.bench.js';
import { fillsBenchFrame, fillsBenchSpec, ROUNDS as FILLS_ROUNDS, SLIPPAGE_BPS, smaReversalFloor } from './engine-fills.bench.js';
import { fillsFloorRate, floorRate, type FloorFigure, type FloorKind } from './engine-floor.js';

const KINDS: readonly FloorKind[] = ['bars-eager', 'bars-lazy', 'fills'];
const kind = process.argv[2] as FloorKind;
if (!KINDS.includes(kind)) {
  console.error(`floor-child: the floor must be one of ${KINDS.join(', ')}, was ${JSON.stringify(process.argv[2])}`);
  process.exit(2);
}
let figure: FloorFigure;
if (kind === 'fills') {
  const frame = await fillsBenchFrame();
  const spec = fillsBenchSpec(frame);
  figure = fillsFloorRate(frame, smaReversalFloor(), { rounds: FILLS_ROUNDS, slippageBps: SLIPPAGE_BPS, takerFee: spec.instruments[0]!.takerFee, initialCash: spec.initialCash });
} else {
  figure = floorRate(await barsBenchFrame(), RUNS_PER_ROUND, BARS_ROUNDS, kind === 'bars-lazy' ? 'lazy' : 'eager');
}
console.log(JSON.stringify(figure));
