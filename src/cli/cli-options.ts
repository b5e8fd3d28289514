import { Option } from 'commander';

/** Shared `--db` option: the DuckDB store file. */
export function dbOption(): Option {
  return new Option('--db <file>', 'DuckDB store file (env TM_DB)').default(undefined, 'data/market.duckdb');
}
