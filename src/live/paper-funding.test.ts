import { describe, expect, it } from 'vitest';
import { FAULTS } from '../../test/support/bybit-v5-server.js';
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
  const local = marketDataServer({ funding: { BTCUSDT: btc }, now: () => now }, { rateLimitMs: 1, beforeEachTest: () => (lines.length = 0) });

  const rates = (fallback: { kind: 'zero' } | { kind: 'constant'; rate: number } = { kind: 'constant', rate: 0.0003 }) =>
    new PaperFundingRates(local.client, ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], [true, true, false], fallback, (line) => lines.push(line));

  it('asks each perpetual once per settlement, for that settlement only, and charges the published rate', async () => {
    const model = rates();
    now = S0 + 1000;
    await model.prepare(S0 - 2 * H4, S0 - H4); // no settlement in the bar: nothing asked
    expect(local.server.requests.filter((r) => r.path === fundingPath)).toHaveLength(0);
    await model.prepare(S0 - H4, S0);
    await model.prepare(S0 - H4, S0); // asked already
    const asked = local.server.requests.filter((r) => r.path === fundingPath).map((r) => [r.query['symbol'], r.query['startTime'], r.query['endTime'], r.query['limit']]);
    expect(asked).toEqual([
      ['BTCUSDT', String(S0), String(S0), '1'],
      ['ETHUSDT', String(S0), String(S0), '1'],
    ]);
    expect(model.rate(0, S0)).toEqual({ rate: 0.0001, source: 'table' });
    // ETH: no rate listed, the stated fallback (counted, and said); SOL (spot) pays nothing and is never asked.
    expect(model.rate(1, S0)).toEqual({ rate: 0.0003, source: 'fallback' });
    expect(model.fallbackUsed[1]).toEqual({ count: 1, first: S0, last: S0 });
    expect(model.charges(2)).toBe(false);
    expect(model.rate(2, S0)).toBeUndefined();
    expect(lines).toEqual([`funding: the venue lists no ETHUSDT rate for ${new Date(S0).toISOString()} yet; the fallback rate 0.0003 applies`]);
    // A settlement not prepared is not charged at another settlement's rate.
    expect(model.rate(0, S0 + FUNDING_INTERVAL_MS)).toEqual({ rate: 0.0003, source: 'fallback' });
    now = S0 + FUNDING_INTERVAL_MS;
    await model.prepare(S0 + FUNDING_INTERVAL_MS - H4, S0 + FUNDING_INTERVAL_MS);
    expect(model.rate(0, S0 + FUNDING_INTERVAL_MS)).toEqual({ rate: -0.00025, source: 'table' });
    expect(model.fallbackUsed[0]!.count).toBe(1);
  });

  it('a bar that spans settlements (a daily bar) asks each of them; a contract on a 4 h interval settles every 4 h', async () => {
    const model = new PaperFundingRates(local.client, ['BTCUSDT', 'ETHUSDT'], [true, true], { kind: 'zero' }, (line) => lines.push(line), [FUNDING_INTERVAL_MS, H4]);
    expect(model.settlementAfter(0, S0 - 1)).toBe(S0);
    expect(model.settlementAfter(0, S0)).toBe(S0 + FUNDING_INTERVAL_MS);
    expect(model.settlementAfter(1, S0)).toBe(S0 + H4);
    now = S0 + 2 * FUNDING_INTERVAL_MS;
    // A daily bar from S0 − 8 h to S0 + 16 h: BTC's S0, S0 + 8 h and S0 + 16 h; ETH's six 4 h settlements.
    await model.prepare(S0 - FUNDING_INTERVAL_MS, S0 + 2 * FUNDING_INTERVAL_MS);
    const asked = local.server.requests.filter((r) => r.path === fundingPath).map((r) => `${String(r.query['symbol'])} ${(Number(r.query['startTime']) - S0) / H4}`);
    expect(asked).toEqual(['BTCUSDT 0', 'BTCUSDT 2', 'BTCUSDT 4', 'ETHUSDT -1', 'ETHUSDT 0', 'ETHUSDT 1', 'ETHUSDT 2', 'ETHUSDT 3', 'ETHUSDT 4']);
    expect([S0, S0 + FUNDING_INTERVAL_MS, S0 + 2 * FUNDING_INTERVAL_MS].map((s) => model.rate(0, s)?.rate)).toEqual([0.0001, -0.00025, 0]);
    expect(model.fallbackUsed[0]).toEqual({ count: 1, first: S0 + 2 * FUNDING_INTERVAL_MS, last: S0 + 2 * FUNDING_INTERVAL_MS });
    // The next bar asks only its own settlements (the ones passed are forgotten).
    local.server.requests.length = 0;
    await model.prepare(S0 + 2 * FUNDING_INTERVAL_MS, S0 + 2 * FUNDING_INTERVAL_MS + H4);
    expect(local.server.requests.filter((r) => r.path === fundingPath).map((r) => [r.query['symbol'], Number(r.query['startTime'])])).toEqual([['ETHUSDT', S0 + 2 * FUNDING_INTERVAL_MS + H4]]);
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
});
