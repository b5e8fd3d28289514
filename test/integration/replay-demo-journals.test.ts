/**
 * `tm replay` at the run's fills on journals of the demo crash campaign (live-crash-demo.test.ts: real ccxt against the
 * local v5 venue, SIGKILLs, stops, `--now`, trades by hand, venue outages), kept gzipped in test/fixtures/replay: each
 * replays with no divergence, the run's denials and every fill matched. Each journal is the one that needs the rule its
 * case names (without the rule, that journal diverges; found by turning each off); together they cover every rule of
 * `runFills` and of the stops' replay in src/live/replay.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { replayJournal } from '../../src/live/replay.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { tempDir } from '../support/shared-data.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'replay');

function journal(name: string): string {
  const path = join(tempDir('tm-replay-fixture-'), `${name}.jsonl`);
  writeFileSync(path, gunzipSync(readFileSync(join(FIXTURES, `demo-${name}.jsonl.gz`))));
  return path;
}

const CASES: readonly (readonly [string, string])[] = [
  ['seed1-refused-flatten', 'a kill whose flatten the venue capped (a trade by hand had changed the position): the rest canceled; later flattens refused (110017) and closed again in up to 3 rounds; a flatten reported filled only after an outage holds the order working meanwhile; an order never reported filled stays working; a stop whose life died before its order left counts once'],
  ['seed3302-silent-cancel', 'a kill whose cancels died with its life while the venue filled the orders: a lost race; its stop sent no closing order, and neither does the replay'],
  ['seed3304-stop-passes-crashed-bars', 'a stop --now whose reconciliation booked a fill at the restored state\'s time, after the crashed bars it passed: the fill comes after their decisions'],
  ['seed3301-resent-decision', 'a decision sent by a life that died with it in flight, sized without a fill the venue had not reported yet, sent again by the next life with another quantity: compared as the last sender made it'],
  ['seed3301-booked-twice', 'a fill booked by a life whose bars the stop\'s short life passed, and booked again by that short life: its earliest booking counts'],
  ['seed20261209-partly-adopted-stop', 'a stop journaled by a life that died with one flatten filled at the venue (the next life adopted it, filled) and one never sent (the next life sent it again under its id): one stop; and one bar\'s denials journaled by two lives out of instrument order (50 lives)'],
  ['seed20261209-stop-per-instrument', 'a stop journaled by a life that died with one flatten at the venue (the next life adopted it still working, canceled it and sent another) and one never sent (the next life sent it again under its id): the dead stop happened for the first instrument only (50 lives; twice in the journal)'],
  ['seed20261218-stop-after-crashed-fill', 'a kill --now (a short life, no bar) after a crash applies its stop after the bar before the crashed life\'s last one (no decision at that last bar\'s close); the crashed life had booked a fill of its order after the stop\'s bar: filled first, so the kill closes the position it made (50 lives; the venue charged funding: 63 payments, booked where the run booked them)'],
  ['seed20261224-late-fill-of-adopted-order', 'a life that restarted behind its predecessor books at its restored state\'s time the fill of an order it adopted, which the venue made only after the predecessor had decided the next bar (another instrument, sized without it): the fill comes after that decision (50 lives)'],
  ['seed3312-stop-after-adopted-fills', 'a kill applied after the first live bar of a life whose reconciliation had booked the fills of the orders the dead life sent at that bar\'s close (adopted, filled): filled first, so the kill flattens the positions the run flattened instead of canceling orders'],
  ['seed20261227-block-after-passed-bars', 'a kill --now whose short life passed the bar a crashed life decided under its warm-up protection (an entry denied), and lifted that protection at its start: lifted after the passed bar\'s decisions, so the replay denies the entry too (50 lives)'],
  ['seed20261227-own-decision-with-late-fill', 'a life that restarted behind its predecessor books at its restored state\'s time a late fill (of a kill\'s flatten) and denies an entry on that instrument at the close where the predecessor\'s adopted order of the other instrument was decided: that denial is compared from a replay with the fill before the close, as the booking life decided it (the predecessor\'s order from the replay with the fill after it) (50 lives, another run of the seed)'],
  ['seed1206-denials-at-shared-close', 'a life that restarted behind its predecessor books at its restored state\'s time a late fill (of a BTC order) and denies a BTC entry under its warm-up protection at the close where the predecessor, without that fill, sized an ETH order it then adopted: the fill comes after that close (the ETH order sized as the predecessor sized it) and the BTC denial is compared from a replay with the fill before the close, as the booking life decided it (50 lives)'],
  ['seed1210-adopted-flatten-remainder', 'a kill journaled by a life that died with both flattens at the venue: the next life adopted BTC\'s, filled but for a remainder the venue canceled (the venue\'s position flat, the run\'s not), and ETH\'s still working; its kill canceled ETH\'s and sent closing orders, BTC\'s refused (110017) in three rounds: the dead stop happened for ETH only, and the BTC flatten the replay\'s next stop makes again under the dead stop\'s id counts against what the run sent, so the replay sends all three BTC closing orders too (50 lives)'],
  ['seed1222-booked-after-deciding-shared-close', 'a life sent a BTC order at a close and booked the late fill of an ETH order after it (the poll after the bar); the next life booked that fill at its earlier restored state\'s time and denied an ETH entry at the same close under its warm-up protection: the fill comes after that close, and the ETH denial there is compared from the replay with the fill before it'],
  ['seed3315-booked-after-deciding', 'a fill a life booked after deciding the other instrument at that close (the poll after the bar), booked again by the next life at its earlier restored state\'s time: that earlier booking does not count before the decision the first life made without the fill'],
  ['seed3322-stop-before-retraded-bars', 'two stops (tm live stop) after a crashed life decided a bar: placed after that bar\'s decisions, they canceled its adopted ETH order; the next life traded the bar again with the order canceled and entered ETH (denied under its warm-up protection): the stops take effect before that life\'s decisions, so the replay decides ETH too'],
];

describe('tm replay at the run\'s fills: demo crash campaign journals', () => {
  for (const [name, what] of CASES) {
    it(`${name}: ${what}`, () => {
      const path = journal(name);
      const report = replayJournal(path, STRATEGIES);
      expect(report.fills.prices).toBe('run');
      expect(report.divergence).toBeUndefined();
      expect(report.denied.replay).toBe(report.denied.live);
      expect(report.fills).toMatchObject({ unmatched: 0, live: report.fills.replay });
      expect(report.fills.maxPriceDiff).toBeLessThan(1e-9); // the run's prices (an ulp from quantities the venue rounded)
      expect(report.liveDecisions).toBeGreaterThan(3);
    });
  }

  it('at the models\' prices the same journals diverge (their venue filled away from the models, and refused, capped and delayed fills)', () => {
    const diverged = CASES.filter(([name]) => {
      const r = replayJournal(journal(name), STRATEGIES, { fills: 'model' });
      return r.divergence !== undefined || r.fills.unmatched > 0;
    });
    expect(diverged.length).toBe(CASES.length);
  });
});
