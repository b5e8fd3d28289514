/**
 * DuckDB schema of the market-data store. Bars live in `bar_data` keyed by a small integer series id
 * (`bar_series`: venue, symbol, timeframe); the `bars` view joins them back for queries. Timestamps are UTC `TIMESTAMP` (bars: the bar's open time).
 * Tables carry no index: uniqueness of each series' timestamps is kept by the store's merge (upserts are
 * idempotent) and verified by `tm data check`; an ART index made bulk imports ~5x slower.
 */
export const SCHEMA_VERSION = 2;

export const SCHEMA_SQL = `
CREATE SEQUENCE IF NOT EXISTS bar_series_id;
CREATE TABLE IF NOT EXISTS bar_series (
  id INTEGER PRIMARY KEY DEFAULT nextval('bar_series_id'),
  venue VARCHAR NOT NULL, symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL,
  UNIQUE (venue, symbol, timeframe));
CREATE TABLE IF NOT EXISTS bar_data (
  series_id INTEGER NOT NULL, ts TIMESTAMP NOT NULL,
  open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL);
CREATE VIEW IF NOT EXISTS bars AS
  SELECT s.venue, s.symbol, s.timeframe, d.ts, d.open, d.high, d.low, d.close, d.volume
  FROM bar_data d JOIN bar_series s ON s.id = d.series_id;
CREATE TABLE IF NOT EXISTS funding_rates (
  venue VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, rate DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS trade_ticks (
  venue VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, seq INTEGER NOT NULL,
  price DOUBLE NOT NULL, qty DOUBLE NOT NULL, side VARCHAR NOT NULL CHECK (side IN ('buy', 'sell')));
CREATE TABLE IF NOT EXISTS external_series (
  source VARCHAR NOT NULL, series VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, value DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS predictions (
  model VARCHAR NOT NULL, model_version VARCHAR NOT NULL, venue VARCHAR NOT NULL, symbol VARCHAR NOT NULL,
  timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, prediction DOUBLE NOT NULL, feature_spec_hash VARCHAR);
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
INSERT INTO store_meta VALUES ('schema_version', '${SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
`;
