import { describe, expect, it } from 'vitest';
import { DEFAULT_LINEAR_INSTRUMENTS, FAULTS } from '../../test/support/bybit-v5-server.js';
import { marketDataServer } from '../../test/support/market-data-server.js';
import { FUNDING_INTERVAL_MS } from '../backtest/execution-models.js';
import { PaperFundingRates } from './paper-funding.js';

const S0 = Date.UTC(2024, 2, 1); // a settlement (00:00 UTC)
const H4 = 4 * 3_600_000;
const fundingPath = '/v5/market/funding/history';

describe('PaperFundingRates against the local Bybit v5 server', () => {
  let now = S0;
  const lines: string[] = [];
  // BTC settles at S0 and S0 + 8 h (not S0 + 16 h); ETH has no funding history at all.
  const btc = { length: 2, ts: Float64Array.of(S0, S0 + FUNDING_INTERVAL_MS), rate: Float64Array.of(0.0001, -0.00025) };
  // The venue's contracts, as instruments-info lists them (a test changes a contract's fundingInterval: every test starts at 8 h).
  const instruments = DEFAULT_LINEAR_INSTRUMENTS.map((x) => ({ ...x }));
  const setInterval = (symbol: string, hours: number) => (instruments.find((x) => x['symbol'] === symbol)!['fundingInterval'] = hours * 60);
  // SOL settles every 8 h until S0, every 4 h from then on (the venue changed it after S0), every 8 h again from S0 + 16 h.
  const sol = { length: 6, ts: Float64Array.from([0, 4, 8, 12, 16, 24], (h) => S0 + h * 3_600_000), rate: Float64Array.of(0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.0006) };
  const local = marketDataServer(
    { instruments: { linear: instruments }, funding: { BTCUSDT: btc, SOLUSDT: sol }, now: () => now },
    { rateLimitMs: 1, beforeEachTest: () => ((lines.length = 0), ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'].forEach((x) => setInterval(x, 8))) },
  );

  const rates = (fallback: { kind: 'zero' } | { kind: 'constant'; rate: number } = { kind: 'constant', rate: 0.0003 }) =>
    new PaperFundingRates(local.client, ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], [true, true, false], fallback, (line) => lines.push(line));

  const fundingAsks = () => local.server.requests.filter((r) => r.path === fundingPath).map((r) => [r.query['symbol'], Number(r.query['startTime']), Number(r.query['endTime']), Number(r.query['limit'])]);
  const intervalAsks = () => local.server.requests.filter((r) => r.path === '/v5/market/instruments-info' && r.query['symbol'] !== undefined).map((r) => r.query['symbol']);
  const hour = (h: number) => S0 + h * 3_600_000;

  it('asks each perpetual once per close that reaches its settlement, for its settlements since its last ask, and charges the published rate', async () => {
    const model = rates();
    now = S0 + 1000;
    await model.prepare(S0 - 2 * H4, S0 - H4); // no settlement in the bar: nothing asked
    expect(fundingAsks()).toHaveLength(0);
    await model.prepare(S0 - H4, S0);
    await model.prepare(S0 - H4, S0); // asked already
    // One request each for (S0 − 4 h, S0], as many rows as hourly settlements could fill.
    expect(fundingAsks()).toEqual([
      ['BTCUSDT', S0 - H4 + 1, S0, 5],
      ['ETHUSDT', S0 - H4 + 1, S0, 5],
    ]);
    expect(model.rate(0, S0)).toEqual({ rate: 0.0001, source: 'table' });
    // ETH: no rate listed, the stated fallback (counted, and said); SOL (spot) pays nothing and is never asked.
    expect(model.rate(1, S0)).toEqual({ rate: 0.0003, source: 'fallback' });
    expect(model.fallbackUsed[1]).toEqual({ count: 1, first: S0, last: S0 });
    expect(model.charges(2)).toBe(false);
    expect(model.rate(2, S0)).toBeUndefined();
    expect(lines).toEqual([`funding: the venue lists no ETHUSDT rate for ${new Date(S0).toISOString()} yet; the fallback rate 0.0003 applies`]);
    // A settlement the venue does not list may be a changed interval's sign: ETH's is asked (still 8 h); BTC's never.
    expect(intervalAsks()).toEqual(['ETHUSDT']);
    // A settlement not prepared is not charged at another settlement's rate.
    expect(model.rate(0, S0 + FUNDING_INTERVAL_MS)).toEqual({ rate: 0.0003, source: 'fallback' });
    now = S0 + FUNDING_INTERVAL_MS;
    await model.prepare(S0 + FUNDING_INTERVAL_MS - H4, S0 + FUNDING_INTERVAL_MS);
    expect(fundingAsks().slice(2)).toEqual([
      ['BTCUSDT', S0 + 1, S0 + FUNDING_INTERVAL_MS, 9],
      ['ETHUSDT', S0 + 1, S0 + FUNDING_INTERVAL_MS, 9],
    ]);
    expect(model.rate(0, S0 + FUNDING_INTERVAL_MS)).toEqual({ rate: -0.00025, source: 'table' });
    expect(model.fallbackUsed[0]!.count).toBe(1);
  });

  it('a bar that spans settlements (a daily bar) asks once for all of them; a contract on a 4 h interval settles every 4 h', async () => {
    setInterval('ETHUSDT', 4);
    const model = new PaperFundingRates(local.client, ['BTCUSDT', 'ETHUSDT'], [true, true], { kind: 'zero' }, (line) => lines.push(line), [FUNDING_INTERVAL_MS, H4]);
    expect(model.settlementAfter(0, S0 - 1)).toBe(S0);
    expect(model.settlementAfter(0, S0)).toBe(S0 + FUNDING_INTERVAL_MS);
    expect(model.settlementAfter(1, S0)).toBe(S0 + H4);
    now = S0 + 2 * FUNDING_INTERVAL_MS;
    // A daily bar from S0 − 8 h to S0 + 16 h: BTC's S0, S0 + 8 h and S0 + 16 h; ETH's six 4 h settlements.
    await model.prepare(hour(-8), hour(16));
    expect(fundingAsks()).toEqual([
      ['BTCUSDT', hour(-8) + 1, hour(16), 25],
      ['ETHUSDT', hour(-8) + 1, hour(16), 25],
    ]);
    expect([hour(0), hour(8), hour(16)].map((s) => model.rate(0, s)?.rate)).toEqual([0.0001, -0.00025, 0]);
    expect(model.fallbackUsed[0]).toEqual({ count: 1, first: hour(16), last: hour(16) });
    expect([-4, 0, 4, 8, 12, 16].map((h) => model.settlementAfter(1, hour(h - 4)))).toEqual([-4, 0, 4, 8, 12, 16].map(hour));
    expect(lines.filter((l) => l.includes('ETHUSDT'))).toHaveLength(6);
    // The next bar asks only its own settlements (the ones passed are forgotten): ETH's S0 + 20 h; BTC's next is S0 + 24 h.
    local.server.requests.length = 0;
    await model.prepare(hour(16), hour(20));
    expect(fundingAsks()).toEqual([['ETHUSDT', hour(16) + 1, hour(20), 5]]);
  });

  it('a settlement the venue has not listed yet when asked (its clock before it), or a failed request, gets the fallback', async () => {
    const model = rates({ kind: 'zero' });
    now = S0 + FUNDING_INTERVAL_MS - 1; // the venue lists no settlement after its clock
    await model.prepare(S0 + FUNDING_INTERVAL_MS - H4, S0 + FUNDING_INTERVAL_MS);
    expect(model.rate(0, S0 + FUNDING_INTERVAL_MS)).toEqual({ rate: 0, source: 'fallback' });
    now = S0 + 2 * FUNDING_INTERVAL_MS;
    local.server.inject({ path: fundingPath, fault: FAULTS.drop, count: 1 });
    await expect(model.prepare(S0 + 2 * FUNDING_INTERVAL_MS - H4, S0 + 2 * FUNDING_INTERVAL_MS)).resolves.toBeUndefined();
    expect(model.rate(0, S0 + 2 * FUNDING_INTERVAL_MS)).toEqual({ rate: 0, source: 'fallback' });
    expect(lines.some((l) => l.startsWith(`funding: BTCUSDT rate for ${new Date(S0 + 2 * FUNDING_INTERVAL_MS).toISOString()} not available (`) && l.endsWith('the fallback (no funding) applies'))).toBe(true);
  });

  it('follows a contract whose funding interval the venue changes: asked again at a listing off its grid or a settlement not listed, never in the steady state; a former interval\'s settlement the new one lacks gets no fallback', async () => {
    setInterval('ETHUSDT', 4);
    const model = new PaperFundingRates(local.client, ['SOLUSDT', 'ETHUSDT'], [true, true], { kind: 'constant', rate: 0.0003 }, (line) => lines.push(line), [FUNDING_INTERVAL_MS, H4]);
    const step = async (h: number) => {
      local.server.requests.length = 0;
      now = hour(h) + 1000;
      await model.prepare(hour(h - 4), hour(h));
      return { funding: fundingAsks().map((a) => a[0]), intervals: intervalAsks() };
    };
    // SOL lists its S0 (no sign of a change); ETH lists nothing (a sign: asked, still 4 h; the fallback).
    expect(await step(0)).toEqual({ funding: ['SOLUSDT', 'ETHUSDT'], intervals: ['ETHUSDT'] });
    // The venue moves SOL to 4 h after its S0 settlement, ETH to 8 h.
    setInterval('SOLUSDT', 4);
    setInterval('ETHUSDT', 8);
    // ETH's S0 + 4 h: not listed, asked: 8 h now, so S0 + 4 h was no settlement (no fallback). SOL's next (8 h as known) is not reached.
    expect(await step(4)).toEqual({ funding: ['ETHUSDT'], intervals: ['ETHUSDT'] });
    expect(model.settlementAfter(1, hour(0))).toBe(hour(8));
    // SOL lists S0 + 4 h (off its 8 h grid: asked, 4 h now) and S0 + 8 h: both charged, S0 + 4 h late (at this close).
    expect(await step(8)).toEqual({ funding: ['SOLUSDT', 'ETHUSDT'], intervals: ['SOLUSDT', 'ETHUSDT'] });
    expect([model.settlementAfter(0, hour(0)), model.settlementAfter(0, hour(4)), model.settlementAfter(0, hour(8))]).toEqual([hour(4), hour(8), hour(12)]);
    expect([model.rate(0, hour(4)), model.rate(0, hour(8))]).toEqual([{ rate: 0.0002, source: 'table' }, { rate: 0.0003, source: 'table' }]);
    expect(model.intervalOf(0)).toBe(H4);
    // The steady state: SOL's S0 + 12 h listed on its 4 h grid, no interval asked.
    expect(await step(12)).toEqual({ funding: ['SOLUSDT'], intervals: [] });
    expect(model.rate(0, hour(12))).toEqual({ rate: 0.0004, source: 'table' });
    // The venue moves SOL back to 8 h. S0 + 16 h is on both grids: listed, no sign yet.
    setInterval('SOLUSDT', 8);
    expect(await step(16)).toEqual({ funding: ['SOLUSDT', 'ETHUSDT'], intervals: ['ETHUSDT'] });
    expect(model.rate(0, hour(16))).toEqual({ rate: 0.0005, source: 'table' });
    // S0 + 20 h not listed: asked, 8 h: no settlement there (no fallback), the next is S0 + 24 h.
    expect(await step(20)).toEqual({ funding: ['SOLUSDT'], intervals: ['SOLUSDT'] });
    expect(model.settlementAfter(0, hour(16))).toBe(hour(24));
    expect(lines).toEqual([
      'funding: the venue lists no ETHUSDT rate for 2024-03-01T00:00:00.000Z yet; the fallback rate 0.0003 applies',
      "funding: ETHUSDT settles every 8 h now (was 4 h; the venue's fundingInterval)",
      "funding: SOLUSDT settles every 4 h now (was 8 h; the venue's fundingInterval)",
      'funding: the venue lists no ETHUSDT rate for 2024-03-01T08:00:00.000Z yet; the fallback rate 0.0003 applies',
      'funding: the venue lists no ETHUSDT rate for 2024-03-01T16:00:00.000Z yet; the fallback rate 0.0003 applies',
      "funding: SOLUSDT settles every 8 h now (was 4 h; the venue's fundingInterval)",
    ]);
  });

  it('resumed after each instrument\'s last settled settlement (a restarted run), the first ask starts there: a 4 h settlement the previous life passed unknowing is listed and charged', async () => {
    setInterval('SOLUSDT', 4); // the venue states 4 h when the run restarts; the previous life settled S0 on 8 h and saved S0 + 5 h
    const model = new PaperFundingRates(local.client, ['SOLUSDT'], [true], { kind: 'constant', rate: 0.0003 }, (line) => lines.push(line), [H4]);
    model.resumeAfter([hour(0)]);
    expect(model.settlementAfter(0, hour(0))).toBe(hour(4));
    now = hour(9) + 1000;
    await model.prepare(hour(5), hour(9));
    expect(fundingAsks()).toEqual([['SOLUSDT', hour(0) + 1, hour(9), 10]]);
    expect([model.rate(0, hour(4)), model.rate(0, hour(8))]).toEqual([{ rate: 0.0002, source: 'table' }, { rate: 0.0003, source: 'table' }]);
    expect(model.settlementAfter(0, hour(0))).toBe(hour(4));
    // Not resumed, the first ask starts at the run's first close: S0 + 4 h is not the run's.
    local.server.requests.length = 0;
    const fresh = new PaperFundingRates(local.client, ['SOLUSDT'], [true], { kind: 'constant', rate: 0.0003 }, (line) => lines.push(line), [H4]);
    await fresh.prepare(hour(5), hour(9));
    expect(fundingAsks()).toEqual([['SOLUSDT', hour(5) + 1, hour(9), 5]]);
    expect(fresh.settlementAfter(0, hour(5))).toBe(hour(8));
  });

  it('an interval that cannot be asked keeps the last known one (said); what the venue lists is charged all the same', async () => {
    setInterval('SOLUSDT', 4); // changed before the run's first settlement; the run knows 8 h
    const model = new PaperFundingRates(local.client, ['SOLUSDT'], [true], { kind: 'constant', rate: 0.0003 }, (line) => lines.push(line));
    now = hour(8) + 1000;
    local.server.inject({ path: '/v5/market/instruments-info', fault: FAULTS.drop, count: 1 });
    await model.prepare(hour(0), hour(8));
    expect(model.intervalOf(0)).toBe(FUNDING_INTERVAL_MS);
    expect(lines.filter((l) => l.startsWith("funding: SOLUSDT's funding interval not available (") && l.endsWith('; 8 h kept'))).toHaveLength(1);
    expect([model.settlementAfter(0, hour(0)), model.settlementAfter(0, hour(4)), model.settlementAfter(0, hour(8))]).toEqual([hour(4), hour(8), hour(16)]);
    expect(model.rate(0, hour(4))).toEqual({ rate: 0.0002, source: 'table' });
    // Asked again at the next sign (S0 + 12 h is listed off the 8 h grid).
    now = hour(16) + 1000;
    await model.prepare(hour(8), hour(16));
    expect(model.intervalOf(0)).toBe(H4);
    expect(model.settlementAfter(0, hour(8))).toBe(hour(12));
  });
});
