import { loadavg } from 'node:os';
import { median, type Benchmark } from './bench-result.js';
import { SYMBOLS, warmupBench } from './warmup-tiers.js';

/**
 * Warm-up tier 2 of a restarted live runner, 3 instruments (see `warmup-tiers.ts`): its saved state lags the run by
 * GAP bar sets (the state store refused its saves meanwhile), so the restart restores the state (as tier 1) and then
 * fills the gap: the missing bars fetched through the Bybit adapter from the local v5 venue (HTTP, one page per
 * instrument), the funding and DVOL since asked once, the signals read from the tail of the run's journal (its
 * prediction history), the features advanced and the strategy replayed. The runner times its gap fill
 * (`warmup.fetchSeconds`) and the first gap set apart (`firstFetchSeconds`: it carries the requests); the figure is
 * the median over 5 restarts of (fetchSeconds − firstFetchSeconds) / (GAP − 1) — the cost of each further missing
 * bar set — and `details.firstSetMs` the cost of the first (requests included). Target ≤ 1 ms per bar (issue 13; the
 * system we emulate < 50 ms).
 */
const GAP = 24;
const ROUNDS = 5;

const bench: Benchmark = {
  name: 'warmup-gapfill',
  async run() {
    const run = await warmupBench('bench-warmup-gapfill', 4 + (ROUNDS + 1) * (GAP + 1) + 4);
    try {
      await run.life(4); // tier 3, saves its state
      const perBar: number[] = [], first: number[] = [], total: number[] = [];
      for (let k = 0; k <= ROUNDS; k++) {
        run.store.saving = false;
        await run.life(GAP); // the state store is down for GAP bars: the saved state lags
        run.store.saving = true;
        const s = await run.life(1);
        const w = s.warmup;
        if (w?.tier !== 2 || w.fetchedBars !== GAP || w.journalSignals !== GAP * SYMBOLS.length) throw new Error(`bench: tier ${w?.tier} (${w?.reason}), fetched ${w?.fetchedBars}, journal signals ${w?.journalSignals}; expected tier 2 over ${GAP} bars`);
        if (k === 0) continue;
        perBar.push(((w.fetchSeconds - w.firstFetchSeconds) * 1000) / (GAP - 1));
        first.push(w.firstFetchSeconds * 1000);
        total.push(w.seconds * 1000);
      }
      return {
        name: 'warmup-gapfill',
        value: Number(median(perBar).toFixed(3)),
        unit: 'ms/bar',
        target: 1,
        better: 'lower' as const,
        details: { instruments: SYMBOLS.length, gapBarSets: GAP, signalsFromJournal: true, perBarMs: perBar.map((x) => Number(x.toFixed(3))), firstSetMs: first.map((x) => Number(x.toFixed(2))), warmupMs: total.map((x) => Number(x.toFixed(2))), loadavg: loadavg() },
      };
    } finally {
      await run.close();
    }
  },
};
export default bench;
