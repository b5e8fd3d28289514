import { ConfigError, type BacktestConfig } from '../config/backtest-config.js';
import { DataError, type MarketStore } from '../data/index.js';

/**
 * Checks the names a backtest config refers to against the store before anything runs, so a typo fails naming its
 * section instead of running on a fallback:
 * - `data.venue`: some bar series must exist for it (when the store holds bars at all); else DataError `not_found`
 *   naming the section and the venues the store has (data not imported yet, or a typo); the same for each of
 *   `data.symbols` at `data.timeframe`;
 * - `funding.venue` (perpetuals only): the venue must be known to the store, i.e. hold funding rates or bars. A venue
 *   that is known but lacks funding for a symbol still runs on the stated fallback (noted by the runner); a store with
 *   no funding data at all is not checked.
 * @throws ConfigError `invalid_config` with `path` (`$.data.venue`, `$.funding.venue`) and the known names.
 */
export async function checkConfigReferences(store: MarketStore, file: string, config: BacktestConfig): Promise<void> {
  const barVenues = (await store.query(`SELECT DISTINCT venue FROM bar_series ORDER BY venue`)).map((r) => String(r['venue']));
  const fundingVenues = (await store.query(`SELECT DISTINCT venue FROM funding_rates ORDER BY venue`)).map((r) => String(r['venue']));
  const fail = (path: string, problem: string): never => {
    throw new ConfigError('invalid_config', `${file}: ${path}: ${problem}`, { file, path, problem });
  };
  if (barVenues.length > 0 && !barVenues.includes(config.data.venue)) {
    const problem = `no bars of venue ${JSON.stringify(config.data.venue)} in the store (it holds ${barVenues.join(', ')}): fix the spelling or import that venue`;
    throw new DataError('not_found', `${file}: $.data.venue: ${problem}`, { file, path: '$.data.venue', problem });
  }
  const { venue, timeframe } = config.data;
  const series = await store.query(`SELECT symbol FROM bar_series WHERE venue = ? AND timeframe = ?`, [venue, timeframe]);
  const stored = new Set(series.map((r) => String(r['symbol'])));
  for (const [k, symbol] of config.data.symbols.entries()) {
    if (barVenues.length === 0 || stored.has(symbol)) continue;
    const known = [...stored].sort();
    const problem = `no ${timeframe} bars of ${symbol} on ${venue} in the store (${known.length > 0 ? `it holds ${known.join(', ')}` : `it holds no ${timeframe} series of ${venue}`})`;
    throw new DataError('not_found', `${file}: $.data.symbols[${k}]: ${problem}`, { file, path: `$.data.symbols[${k}]`, problem });
  }
  const funding = config.funding.venue;
  if (config.instruments === 'bybit-linear' && fundingVenues.length > 0 && !fundingVenues.includes(funding) && !barVenues.includes(funding)) {
    fail('$.funding.venue', `unknown funding venue ${JSON.stringify(funding)}: the store holds funding rates of ${fundingVenues.join(', ')} (fix the spelling, or import that venue's funding)`);
  }
}
