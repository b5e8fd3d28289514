/**
 * How fast this machine runs at a moment: milliseconds of one fixed reference loop, measured next to each timing round
 * of a benchmark so that its rounds can be read against the machine's state.
 *
 * Why: on the 2-core virtual machine the benches run on, this loop (same data, same compiled code) took from 1.7 to
 * 5.9 ms a call (2026-12-05): about 1.75 ms for seconds, then about 2.9, 3.8 or 5.8 ms, in steps, also within one
 * process, while the guest's steal counter did not move. A benchmark round run in a slow state is slow for that
 * reason alone: its figure is not comparable with one run in a fast state, nor are a change's A/B figures taken in
 * different states. The loop touches only a few KiB (no memory traffic, allocation or collector): its time is the
 * machine's speed for compiled JavaScript, nothing of the engine. It is taken just before a round, and the state can
 * change during the round: it explains much of the spread of the rounds, not all of it.
 */

const STEPS = 365_695;
const SIZE = 4096; // a power of two: index by mask
const closes = new Float64Array(SIZE);
for (let k = 0; k < SIZE; k++) closes[k] = 100 + Math.sin(k * 0.01);
const ring = new Float64Array(30);
const sums = new Float64Array(2);
const sink = new Float64Array(1);

/** An SMA(10)/SMA(30) cross count over `closes` repeated (the kind of loop the engine benches time), allocation-free. */
function referenceLoop(): number {
  ring.fill(0);
  sums.fill(0);
  let n = 0, side = 0, crosses = 0;
  for (let t = 0; t < STEPS; t++) {
    const c = closes[t & (SIZE - 1)]!;
    const k = n % 30;
    sums[1] = sums[1]! + c - ring[k]!;
    sums[0] = sums[0]! + c - (n >= 10 ? ring[(n - 10) % 30]! : 0);
    ring[k] = c;
    n++;
    if (n < 30) continue;
    const want = sums[0]! * 30 > sums[1]! * 10 ? 1 : -1;
    if (want !== side) {
      side = want;
      crosses++;
    }
  }
  return crosses;
}

let warm = false;

/**
 * Milliseconds of the reference loop now: the fastest of `calls` calls (one interrupt does not count), after a warm-up
 * on the first use (compiled, as the benches' loops are when timed). Rounded to 0.01 ms.
 */
export function referenceLoopMs(calls = 3): number {
  if (!warm) {
    for (let k = 0; k < 10; k++) sink[0] = referenceLoop();
    warm = true;
  }
  let best = Infinity;
  for (let k = 0; k < calls; k++) {
    const t0 = performance.now();
    sink[0] = referenceLoop();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round(best * 100) / 100;
}

/** What `machine.referenceMs` of a benchmark's details means. */
export const MACHINE_WHAT =
  'the machine’s speed next to each timing round (same order as `rounds`): ms of one fixed, cache-resident reference loop (bench/machine-speed.ts), fastest of 3 calls just before the round. On this virtual machine it steps between about 1.75 ms and 2.9, 3.8 or 5.8 ms within seconds; a round run in a slower state is slower for that reason alone (the state can also change during a round): compare rounds, and the runs of a change, taken at the same reference time';
