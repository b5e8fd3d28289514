import { loadavg } from 'node:os';
import { median, type Benchmark } from './bench-result.js';
import { SYMBOLS, warmupBench } from './warmup-tiers.js';

/**
 * Warm-up tier 2 of a restarted live runner, 3 instruments (see `warmup-tiers.ts`): its saved state lags the run by
 * GAP bar sets (the state store refused its saves meanwhile), so the restart restores the state (as tier 1) and then
 * fills the gap: the missing bars fetched through the Bybit adapter from the local v5 venue (HTTP), their signals read
 * from the run's journal (its prediction history), the features advanced and the strategy replayed. Per missing bar
 * set: (tier-2 warm-up − the median tier-1 warm-up of the same run) / GAP. Median of 5 rounds. Target ≤ 1 ms per bar
 * (issue 13; the system we emulate < 50 ms).
 */
const GAP = 24;
const ROUNDS = 5;

const bench: Benchmark = {
  name: 'warmup-gapfill',
  async run() {
    const run = await warmupBench('bench-warmup-gapfill', 4 + (ROUNDS + 1) * (GAP + 2) + 4);
    try {
      await run.life(4); // tier 3, saves its state
      const perBar: number[] = [], tier1: number[] = [], tier2: number[] = [];
      for (let k = 0; k <= ROUNDS; k++) {
        const t1 = await run.life(1); // tier 1 (the baseline of this round)
        run.store.saving = false;
        await run.life(GAP); // the state store is down for GAP bars: the saved state lags
        run.store.saving = true;
        const t2 = await run.life(1);
        if (t1.warmup?.tier !== 1 || t2.warmup?.tier !== 2 || t2.warmup.fetchedBars !== GAP) throw new Error(`bench: round ${k}: tiers ${t1.warmup?.tier}, ${t2.warmup?.tier} (${t2.warmup?.reason}), fetched ${t2.warmup?.fetchedBars}`);
        if (k === 0) continue;
        tier1.push(t1.warmup.seconds * 1000);
        tier2.push(t2.warmup.seconds * 1000);
        perBar.push((t2.warmup.seconds - t1.warmup.seconds) * 1000 / GAP);
      }
      return {
        name: 'warmup-gapfill',
        value: Number(median(perBar).toFixed(3)),
        unit: 'ms/bar',
        target: 1,
        better: 'lower' as const,
        details: { instruments: SYMBOLS.length, gapBarSets: GAP, signalsFromJournal: true, tier1Ms: tier1.map((x) => Number(x.toFixed(2))), tier2Ms: tier2.map((x) => Number(x.toFixed(2))), perBarMs: perBar.map((x) => Number(x.toFixed(3))), loadavg: loadavg() },
      };
    } finally {
      await run.close();
    }
  },
};
export default bench;
