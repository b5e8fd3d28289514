/**
 * The crash test of the live runner, demo mode: `tm live --demo` (real ccxt, BybitExecutionClient) against the local
 * Bybit v5 venue, killed with SIGKILL at seeded random moments — the venue answers order requests late (seeded
 * latency faults) so kills also land between a submit and its acknowledgement — and restarted each time while the
 * venue's clock and price feed keep moving. Checked at the end, against the venue's own books:
 * 0 duplicate orderLinkIds, 0 lost fills (every execution of the run is booked in the final state, once), the runner's final
 * positions == the venue's, and the runner's wallet (equity − unrealised PnL) == the venue's wallet balance; and
 * `tm replay` of the whole journal, at the run's fills, makes the run's decisions and denials and matches every fill.
 * The 2nd life ends instead by `tm live kill`, the 4th by `tm live stop --flatten`, the 6th and about a quarter of the
 * others by either (the next life after a kill with `--unhalt` or not): after each, nothing works at the venue but the
 * flatten (a flatten the venue fills only after the run ended: `tm live stop`/`kill` exits 1 naming it). The 6th and
 * about a third of those others are killed with SIGKILL while they apply the stop: `tm live` then
 * exits 1 and the next life applies the stop before any bar (or, when the dead life saved it, knows it applied).
 * The first life from the 3rd on killed with SIGKILL, and about a quarter of the later ones, are then stopped at once
 * with `tm live kill --now` or `tm live stop --flatten --now` (a short life: reconciliation, the stop after the bars
 * the dead life decided, no bar).
 * Somebody also trades by hand on the run's account (another app; orderLinkIds not the run's): after about a quarter
 * of the kills, and during about a fifth of the lives killed, a market order on BTCUSDT or ETHUSDT opens a position by
 * hand, or the next such trade closes it; the run must never book it, must halt the instrument while positions differ
 * (at its start's reconciliation, or during the run), and the operator starts the life after a trade closed it with
 * `--unhalt`. The account's cash then differs from the run's by the trades by hand only.
 * And the venue has outages: in the first life killed with SIGKILL from the 3rd on and about a third of the later
 * ones, once the life runs, the venue's next 10–40 private requests answer 5xx (each failed venue round uses one): the
 * breaker opens after three failed rounds (its halts saved with the state), an order sent into the outage is queried,
 * never sent again blindly; half the time the outage goes on into the next life (its reconciliation retried), else it
 * ends with the kill. No operator stop is sent during one.
 * TM_CRASH_RUNS lives (default 6 in CI; the nightly workflow runs 50), seed TM_CRASH_SEED (default 1).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import { timeframeMs } from '../../src/core/time.js';
import { readJournal } from '../../src/live/journal.js';
import { replayJournal } from '../../src/live/replay.js';
import { FUNDING_MARGIN_MS } from '../../src/live/venue-funding.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { tradeByHand } from '../support/bybit-v5-venue.js';
import { FrameVenue, readLiveStatus, sharedFrame, spawnDemoLive, spawnTmWithKeys } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const RUNS = Number(process.env['TM_CRASH_RUNS'] ?? 6);
const SEED = Number(process.env['TM_CRASH_SEED'] ?? 1);
const BARS = 30 + RUNS * 2;
const frame = sharedFrame('2023-06-01T00:00:00Z', 200 + BARS);
const tf = timeframeMs('4h');
const startTs = frame.ts[200]!;
/** Funding the venue charges every 8 h on the account's positions (the run books the venue's payments). */
const FUNDING_RATE = 0.0005;
const endTs = frame.ts[200 + BARS - 1]!; // the venue clock stops at this bar's open: the last live bar opens at endTs - tf

describe(`tm live --demo survives ${RUNS} kill -9 (seed ${SEED})`, () => {
  const dir = tempDir('tm-live-crash-demo-');
  const runDir = join(dir, 'run');
  const experiment = join(dir, 'crash-demo.json');
  let fv: FrameVenue;
  let clock: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    // The venue clock runs 4 h per 150 ms at most: a 5 s recv window means nothing on it (its check has its own tests).
    fv = await FrameVenue.start(frame, startTs, { slippageBps: 2, initialPrice: 1, recvWindowCheck: false, faults: { seed: SEED, rates: { latency: 0.15 }, latencyMs: [50, 300] }, fundingRate: FUNDING_RATE });
    // Fast trend-following: many decisions over the run.
    writeFileSync(experiment, JSON.stringify({ name: 'crash-demo', strategy: 'sma-crossover', params: { fast: 3, slow: 12, allocation: 0.4, allowShort: true }, data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2023-06-01', end: '2024-06-01' }, instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1 }));
  });
  afterAll(async () => {
    if (clock) clearInterval(clock);
    await fv.close();
  });

  const start = (extra: readonly string[] = []) => spawnDemoLive({ experiment, runId: 'crd', dir: runDir, apiUrl: fv.venue.url }, extra);
  const status = () => readLiveStatus(runDir);
  /** `tm live <command> --now` on the run (not running), with the venue's keys in its environment. */
  const tmNow = async (command: readonly string[]): Promise<{ code: number | null; out: string }> => {
    const run = spawnTmWithKeys(['live', ...command, '--dir', runDir, '--now', '--api-url', fv.venue.url, '--clock', 'venue', '--poll-ms', '10', '--wait-ms', '10000']);
    const code = await run.exited;
    return { code, out: run.text() };
  };

  it('0 duplicate orderLinkIds, 0 lost fills, positions and wallet equal to the venue’s', async () => {
    const rand = seededRandom(SEED);
    // The venue clock moves a bar at a time while the runner keeps up (live, bars come far slower than it decides);
    // while no runner is up it keeps moving (the next life catches up on the bars it missed, up to 3 behind).
    clock = setInterval(() => {
      const s = status();
      // Before the first life saved a state, the run's last bar is the one before its start bar (a slow first start
      // on a loaded machine must not find the clock at the end of the test).
      if (fv.now < endTs && fv.now - (s?.lastBarTs ?? startTs - tf) <= 3 * tf) fv.advance();
    }, 150);
    const outputs: string[] = [];
    const stops: string[] = [];
    let stopsKilled = 0;
    let stopsLeftOver = 0;
    let knownApplied = 0;
    let nowStops = 0;
    /** Of those, the stops applied after a bar the dead life decided and did not save (LiveRunner.passCrashedBars). */
    let nowAfterCrashedBar = 0;
    let unhalt = false;
    // Trades by hand, from their own seeded stream (the schedule of kills and stops of a seed stays as it was).
    const handRand = seededRandom(SEED * 7919 + 17);
    // Venue outages, from a stream of their own too.
    const outageRand = seededRandom(SEED * 104729 + 3);
    let outages = 0;
    /** Ends an outage still going on (before an operator's stop or the last life). */
    const endOutage = () => fv.venue.clearInjectedFaults();
    let hand: { readonly symbol: string; readonly side: 'Buy' | 'Sell'; readonly qty: number } | undefined;
    let handOrders = 0;
    /** Somebody trades by hand on the account (tried again through an outage), filled by a print at the last price. */
    const byHand = (symbol: string, side: 'Buy' | 'Sell', qty: number): Promise<void> => tradeByHand(fv.venue, { symbol, side, qty, orderLinkId: `by-hand-${++handOrders}` }, fv.now, 60);
    /** Opens a position by hand, or closes the one open; after a close, the operator unhalts the next life. */
    const handTrade = async (): Promise<void> => {
      if (hand === undefined) {
        const symbol = handRand() < 0.5 ? 'BTCUSDT' : 'ETHUSDT';
        hand = { symbol, side: handRand() < 0.5 ? 'Buy' : 'Sell', qty: symbol === 'BTCUSDT' ? 0.01 : 0.1 };
        await byHand(hand.symbol, hand.side, hand.qty);
      } else {
        await byHand(hand.symbol, hand.side === 'Buy' ? 'Sell' : 'Buy', hand.qty);
        hand = undefined;
        unhalt = true;
      }
    };
    /** After a stop's life ended: every working order canceled; what may still work is the flatten's reduce-only market orders, which this venue fills at its next price (the next bar it prints): the next life reconciles their fills. */
    const expectStopped = (command: string, said: string) => {
      const working = fv.venue.orders().filter((o) => o['orderStatus'] === 'New' || o['orderStatus'] === 'PartiallyFilled');
      expect(working.filter((o) => !(o['reduceOnly'] === true && o['orderType'] === 'Market')), said).toEqual([]);
      if (command === 'kill') expect(status(), said).toMatchObject({ running: false, tradingState: 'HALTED' });
      stops.push(command);
      unhalt = command === 'kill' && rand() < 0.5;
    };
    /**
     * Starts a life. A stop whose life died applying it is in control.json: the new life applies it before any bar and
     * ends (returned: undefined), or finds it applied by its saved state (the last life died between saving it and
     * removing the request) and trades on, as every other life (returned: the life).
     */
    const startLife = async (): Promise<ReturnType<typeof start> | undefined> => {
      const pending = existsSync(join(runDir, 'control.json')) ? (JSON.parse(readFileSync(join(runDir, 'control.json'), 'utf8')) as { command: string }) : undefined;
      const life = start(unhalt ? ['--unhalt'] : []);
      unhalt = false;
      if (pending === undefined) return life;
      let ended = false;
      void life.exited.then(() => (ended = true));
      const deadline = Date.now() + 60_000;
      const known = () => life.out().includes('was applied by the last life (its saved state says so): not applied again');
      while (!ended && !known() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (known()) {
        expect(existsSync(join(runDir, 'control.json'))).toBe(false);
        knownApplied++;
        return life;
      }
      expect(await life.exited, life.out()).toBe(0);
      expect(life.out()).toContain('applying the saved request');
      expect(existsSync(join(runDir, 'control.json'))).toBe(false);
      outputs.push(life.out());
      expectStopped(pending.command, life.out());
      return undefined;
    };
    for (let kill = 0; kill < RUNS; kill++) {
      const life = await startLife();
      if (life === undefined) continue; // it applied the stop the life before died in
      const r = rand();
      if (r < 0.25 || kill === 1 || kill === 3 || kill === 5) {
        // Stopped by the operator once the life is running (the 2nd life by the kill switch, the 4th by a stop, the 6th by
        // either): every order canceled and every position closed at the venue. About a third of these lives (the 6th
        // always, once it journaled the stop) are killed with SIGKILL while they apply it.
        const command = kill === 1 || (kill !== 3 && r < 0.125) ? ['kill'] : ['stop', '--flatten'];
        const killMidStop = kill === 5 || (kill !== 1 && kill !== 3 && rand() < 1 / 3);
        const deadline = Date.now() + 60_000;
        while (!(status()?.pid === life.child.pid && status()?.running === true) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, rand() * 1500));
        endOutage();
        const shutdowns = () => readJournal(join(runDir, 'journal.jsonl')).records.filter((r) => r.k === 'event' && r.e === 'shutdown').length;
        const before = shutdowns();
        const stopper = spawn(process.execPath, ['bin/tm.js', 'live', ...command, '--dir', runDir, '--wait-ms', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stopOut = '';
        stopper.stdout!.on('data', (d) => (stopOut += d));
        stopper.stderr!.on('data', (d) => (stopOut += d));
        const stopped = new Promise<number | null>((resolve) => stopper.on('exit', resolve));
        if (killMidStop) {
          let ended = false;
          void life.exited.then(() => (ended = true));
          while (!ended && shutdowns() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          // The venue clock moves on during the stop (its flatten fills at the next bar): the window is short.
          await new Promise((r) => setTimeout(r, kill === 5 ? 0 : rand() * 300));
          life.child.kill('SIGKILL');
          const code = await life.exited;
          outputs.push(life.out());
          if (code === null && existsSync(join(runDir, 'control.json'))) {
            // Died before its stop was saved and the request removed: tm live says so; the next start applies it.
            expect(await stopped, stopOut).toBe(1);
            expect(stopOut).toContain('stopped without the');
            expect(stopOut).toContain('the process died before it saved the stop');
            stopsKilled++;
            continue;
          }
          // It finished its stop first (or died after saving it and removing the request): a stop as any other.
        } else {
          expect(await life.exited, life.out()).toBe(0);
          outputs.push(life.out());
        }
        // Its flatten fills at the venue's next price: when none came during the run's wait (the venue clock 3 bars ahead
        // already), the run ended with its orders working and tm live says so (exit 1); the next life reconciles them.
        const code = await stopped;
        if (code === 1 && /is not done at the venue/.test(stopOut)) {
          // With a position open by hand, the flatten may leave the run's book not flat with nothing working: the venue
          // refused its reduce-only order (the trade by hand had closed or turned the venue's position) or capped it.
          expect(stopOut).toMatch(new RegExp(`ALERT run crd stopped, but the ${command[0]} is not done at the venue: not flat: ${hand !== undefined ? '' : '.*orders? still working \\(crd_'}`));
          stopsLeftOver++;
        } else expect(code, stopOut).toBe(0);
        expectStopped(command[0]!, stopOut);
        continue;
      }
      const alive = 1500 + rand() * 2000;
      if ((outages === 0 && kill >= 2) || outageRand() < 1 / 3) {
        // Once the life trades (warmed up and reconciled: its status names the warm-up), in its bar loop.
        const deadline = Date.now() + 60_000;
        while (!(status()?.pid === life.child.pid && status()?.warmup !== undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        fv.venue.injectFault('server_error', { count: 10 + Math.floor(outageRand() * 31) });
        outages++;
      }
      if (handRand() < 0.2) {
        // A trade by hand while the life runs: its venue rounds find the positions differ (after their strikes).
        await new Promise((r) => setTimeout(r, alive / 2));
        await handTrade();
        await new Promise((r) => setTimeout(r, alive / 2));
      } else await new Promise((r) => setTimeout(r, alive));
      life.child.kill('SIGKILL');
      const code = await life.exited;
      expect(code, life.out()).toBe(null);
      outputs.push(life.out());
      if (outageRand() < 0.5) endOutage();
      if (handRand() < 0.25) await handTrade();
      if ((nowStops === 0 && kill >= 2) || rand() < 0.25) {
        // The operator stops the dead run at once: `tm live kill|stop --flatten --now`, a short life of the run (its
        // saved state, the reconciliation, the stop after the bars the dead life decided, no bar). Its flatten fills at
        // the venue's next price: when none comes within its wait, it exits 1 naming the orders still working.
        const command = rand() < 0.5 ? ['kill'] : ['stop', '--flatten'];
        endOutage();
        const now = await tmNow(command);
        expect(now.out, now.out).toContain(`is not running: applying the ${command[0]} now`);
        if (now.code === 1 && /is not done at the venue/.test(now.out)) stopsLeftOver++;
        else expect(now.code, now.out).toBe(0);
        expect(existsSync(join(runDir, 'control.json'))).toBe(false);
        expectStopped(command[0]!, now.out);
        nowStops++;
        if (now.out.includes('the last bar a crashed life traded after the restored state')) nowAfterCrashedBar++;
      }
    }
    endOutage();
    if (hand !== undefined) await handTrade(); // the account square again before the last life (unhalted)
    let last: ReturnType<typeof start> | undefined;
    while (last === undefined) last = await startLife();
    const deadline = Date.now() + 90_000;
    for (;;) {
      const s = status();
      // Its own status once warmed up and reconciled (warmup set): at its start it already names the saved last bar,
      // which the life before may have taken to the end; a SIGTERM during the warm-up ends a run before that bar.
      if (s !== undefined && s.pid === last.child.pid && s.running && s.warmup !== undefined && s.lastBarTs >= endTs - tf) break;
      if (Date.now() > deadline) throw new Error(`the last life did not reach the end: ${JSON.stringify(s)}\n${last.out()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    outputs.push(last.out());
    /** Keeps the journal, each life's output and the venue's books in `folder` (for tm replay); returns the journal's path. */
    const keepFiles = (folder: string): string => {
      mkdirSync(folder, { recursive: true });
      const journal = join(folder, `tm-crash-demo-${SEED}-${RUNS}-journal.jsonl`);
      writeFileSync(journal, readFileSync(join(runDir, 'journal.jsonl')));
      writeFileSync(join(folder, `tm-crash-demo-${SEED}-${RUNS}-venue.json`), JSON.stringify({ orders: fv.venue.orders(), executions: fv.venue.executions(), outputs }, null, 1));
      return journal;
    };
    // TM_CRASH_KEEP names a folder that stays (the suite's temporary folders are removed) and keeps every campaign's
    // files, before any check (a failed one stops the test): the nightly job uploads them when the campaign fails.
    const keptJournal = process.env['TM_CRASH_KEEP'] !== undefined ? keepFiles(process.env['TM_CRASH_KEEP']) : undefined;
    // No alert but a stop's flatten the venue had not filled when its life ended (counted above when tm live said so),
    // the halts of positions a trade by hand made differ, and what an outage brings: the breaker, retried
    // reconciliations, orders lost in it.
    for (const o of outputs) expect(o).not.toMatch(/unexpected error|ALERT(?! stop "[^"]+" applied, but not flat: | position differs from the venue's| venue breaker open| reconcile attempt \d+ failed| lost order| bybit: order \S+ lost)/);

    const orders = fv.venue.orders();
    const ids = orders.map((o) => String(o['orderLinkId']));
    expect(new Set(ids).size).toBe(ids.length); // 0 duplicate orderLinkId at the venue
    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    const journalExecs = records.filter((r) => r.k === 'fill').map((r) => (r as { exec?: string }).exec);
    const venueExecs = fv.venue.executions().filter((e) => String(e['orderLinkId']).startsWith('crd_')).map((e) => String(e['execId']));
    expect(journalExecs.every((e) => e !== undefined)).toBe(true);
    // A life killed after booking a fill but before saving its state books it again at its restart (the saved state
    // did not hold it): the journal may list an execution twice, the state must hold each once (positions and wallet
    // below prove the account counted it once).
    expect([...new Set(journalExecs)].sort()).toEqual([...venueExecs].sort()); // 0 lost fills
    // Trades by hand are never the run's: no fill of theirs in the journal, none in the state.
    expect(records.filter((r) => r.k === 'fill' && !r.id.startsWith('crd_'))).toEqual([]);
    // Every funding payment of the venue's on the account since the run began is in the journal (a life that died
    // before saving booked it, the next again: each once in the state, as the wallet below shows). The run begins at
    // its last fresh start's first live bar (a first life that died before it saved any state is not part of it), or at
    // the first of its executions when such a life traded (the fresh life adopts its orders; VenueFunding.startAt):
    // a payment before is on a position by hand only, already in the wallet the run started from.
    const lastFresh = records.findLastIndex((r) => r.k === 'start' && r.restart === false);
    const freshFrom = records.slice(lastFresh).flatMap((r) => (r.k === 'event' && r.e === 'warmup' ? [r.t] : []))[0]!;
    const runExecTimes = fv.venue.executions().filter((e) => String(e['orderLinkId']).startsWith('crd_')).map((e) => Number(e['execTime']));
    const runFrom = Math.min(freshFrom, ...runExecTimes) - FUNDING_MARGIN_MS;
    const payments = fv.venue.executions().filter((e) => e['execType'] === 'Funding');
    const beforeRun = payments.filter((e) => Number(e['execTime']) < runFrom);
    const venueFunding = payments.filter((e) => Number(e['execTime']) >= runFrom).map((e) => String(e['execId']));
    const journalFunding = records.flatMap((r) => (r.k === 'funding' ? [r.exec] : []));
    expect(venueFunding.length).toBeGreaterThan(0);
    expect([...new Set(journalFunding)].sort()).toEqual([...venueFunding].sort()); // 0 lost funding payments
    const saved = JSON.parse(readFileSync(join(runDir, 'state.json'), 'utf8')) as { bookedExecutions: string[] };
    expect([...saved.bookedExecutions].sort()).toEqual([...venueExecs].sort()); // each booked once in the final state
    const s = status()!;
    frame.symbols.forEach((sym, i) => expect(s.positions[i]!.quantity).toBeCloseTo(fv.venue.position(sym), 9));
    const unrealised = s.positions.reduce((a, p) => a + (p.quantity === 0 ? 0 : p.quantity * (p.mark - p.entryPrice)), 0);
    // The account's cash: the run's wallet is the venue's but for the trades by hand (closed by now, their cash flows and
    // fees). Compared at cost (wallet − position × average entry): while a trade by hand shared a position with the
    // run's, the venue's average cost mixed the two, which moves realised PnL between the trades and what is still open.
    const handExecs = fv.venue.executions().filter((e) => String(e['orderLinkId']).startsWith('by-hand-'));
    const handCash = handExecs.reduce((a, e) => a + (e['side'] === 'Sell' ? 1 : -1) * Number(e['execQty']) * Number(e['execPrice']) - Number(e['execFee']), 0);
    const runnerAtCost = s.equity - unrealised - s.positions.reduce((a, p) => a + (p.quantity === 0 ? 0 : p.quantity * p.entryPrice), 0);
    const venueAtCost = fv.venue.walletBalance() - frame.symbols.reduce((a, sym) => a + fv.venue.position(sym) * fv.venue.entryPrice(sym), 0);
    const fundingBeforeRun = beforeRun.reduce((a, e) => a + Number(e['execFee']), 0);
    expect(runnerAtCost).toBeCloseTo(venueAtCost - handCash + fundingBeforeRun, 6);
    if (handOrders === 0) expect(s.equity - unrealised).toBeCloseTo(fv.venue.walletBalance(), 6);
    const mismatchHalts = records.filter((r) => r.k === 'reconcile' && r.kind === 'position_mismatch').length;
    const breakerOpened = outputs.filter((o) => o.includes('ALERT venue breaker open')).length;
    const breakerClosed = outputs.filter((o) => o.includes('venue breaker closed')).length;
    const starts = records.filter((r) => r.k === 'start').length;
    const inFlightKills = countInFlightKills(records);
    console.log(`demo crash test: ${RUNS} lives (${stops.length} ended by tm live ${stops.join(', ') || '-'}, ${stopsKilled} killed while applying one (${knownApplied} of those saved it first), ${nowStops} applied with --now after a kill -9 (${nowAfterCrashedBar} after a bar the dead life decided but did not save), ${stopsLeftOver} ended with their flatten not filled yet, the others by kill -9; ${starts - 1} after the runner had started; ${handOrders} trades by hand (${beforeRun.length} funding payments on them before the run began), ${mismatchHalts} position-mismatch halts, ${outages} outages (breaker opened ${breakerOpened}, closed ${breakerClosed}), ${inFlightKills} with an order submitted and not yet acknowledged), ${ids.length} venue orders, ${venueExecs.length} executions, venue faults ${JSON.stringify(fv.venue.faultCounts())}`);
    expect(venueExecs.length).toBeGreaterThan(2);
    // tm replay of the whole journal (at the run's fills: the venue's prices, quantities, refusals and times) makes the
    // run's decisions and denials, and fills what the run filled.
    const report = replayJournal(join(runDir, 'journal.jsonl'), STRATEGIES);
    const differs = report.divergence !== undefined || report.fills.unmatched > 0 || report.denied.live !== report.denied.replay;
    if (differs) {
      const kept = keptJournal ?? keepFiles(tmpdir());
      console.log(`demo crash replay differs: journal kept at ${kept}: ${JSON.stringify({ divergence: report.divergence, denied: report.denied, fills: report.fills })}`);
    }
    console.log(`demo crash replay: ${report.liveDecisions} decisions, ${report.denied.live} denied, ${report.fills.live} fills, ${report.funding.payments} funding payments; ${report.shutdowns} stops, ${report.instrumentHalts} instrument halts and releases, ${report.accountStates} account changes by hand applied`);
    expect(report.divergence).toBeUndefined();
    expect(report.denied.replay).toBe(report.denied.live);
    expect(report.fills.unmatched).toBe(0);
    expect(report.fills.maxPriceDiff).toBeLessThan(1e-9); // the run's prices (an ulp from quantities the venue rounded)
  }, 90_000 + RUNS * 12_000);
});

/** Lives of the journal that ended (next `start`) with a submitted order not yet accepted, rejected or filled. */
function countInFlightKills(records: readonly { k: string; id?: string; e?: string }[]): number {
  let count = 0;
  let open = new Set<string>();
  for (const r of records) {
    if (r.k === 'start') {
      if (open.size > 0) count++;
      open = new Set();
    } else if (r.k === 'submit') open.add(r.id!);
    else if ((r.k === 'event' || r.k === 'fill') && r.id !== undefined) open.delete(r.id);
  }
  return count;
}
