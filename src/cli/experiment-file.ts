import { readFile } from 'node:fs/promises';
import { ConfigError, loadConfig, parseBacktestConfig, type BacktestConfig } from '../config/backtest-config.js';
import { applyOverrides, type ConfigOverride } from './config-overrides.js';

// Kept apart from backtest-command.ts so commands that only read an experiment (tm live) do not load the backtest
// command's dependencies (the market store, model packages, the registry clients): a live restart starts faster.

/** How messages name a config file run with overrides: `<file> (with params.fast=10, ...)`. */
export function overrideLabel(file: string, overrides: readonly ConfigOverride[]): string {
  return overrides.length === 0 ? file : `${file} (with ${overrides.map((o) => o.text).join(', ')})`;
}

/** Loads an experiment file, applying `overrides` to its JSON before the schema check (so overrides are validated too). */
export async function loadOrThrow(file: string, overrides: readonly ConfigOverride[] = []): Promise<BacktestConfig> {
  if (overrides.length === 0) {
    const loaded = await loadConfig(file);
    if (!loaded.success) throw loaded.error;
    return loaded.data;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError('io', `${file}: cannot read the experiment: ${(e as Error).message}`, { file, path: '$', problem: (e as Error).message }, { cause: e });
  }
  const parsed = parseBacktestConfig(applyOverrides(raw, overrides), overrideLabel(file, overrides));
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}
