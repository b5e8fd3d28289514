/**
 * DuckDB schema of the market-data store. Timestamps are UTC `TIMESTAMP` (bars: the bar's open time).
 * Tables carry no index: uniqueness of each series' timestamps is kept by the store's merge (upserts are
 * idempotent) and verified by `tm data check`; an ART index made bulk imports ~5x slower.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS bars (
  venue VARCHAR NOT NULL, symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
  open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL);
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
