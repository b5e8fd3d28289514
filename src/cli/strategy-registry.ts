import { AppError } from '../core/app-error.js';
import type { StrategyFactory } from '../backtest/run-experiment.js';

/**
 * Location of the strategy registry (`STRATEGIES` of src/strategies/index), relative to this file: the same relative
 * path holds for the sources (src/cli/*.ts run by tsx or vitest) and the build (dist/src/cli/*.js), with the
 * extension of the running module (`tm strategies ls` also reads each strategy module's doc comments from there).
 */
const STRATEGY_REGISTRY_URL = new URL(`../strategies/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** A loaded registry module: the factories by name, and every export (parameter schemas are `<Name>Params`). */
export interface StrategyRegistryModule {
  /** URL of the registry module; strategy `<name>` lives in the module `<name>` beside it. */
  readonly url: URL;
  readonly strategies: Readonly<Record<string, StrategyFactory>>;
  readonly exports: Readonly<Record<string, unknown>>;
}

/**
 * Loads the strategy registry module at run time (a dynamic import keeps it and zod out of `tm --help`).
 * @throws AppError `strategy_registry` when the module cannot be loaded or exports no factory map.
 */
export async function loadStrategyRegistryModule(url: URL = STRATEGY_REGISTRY_URL): Promise<StrategyRegistryModule> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url.href)) as Record<string, unknown>;
  } catch (e) {
    throw new AppError('strategy_registry', `cannot load the strategy registry ${url.pathname}: ${(e as Error).message}`, { url: url.href }, { cause: e });
  }
  const registry = mod['STRATEGIES'];
  if (registry === null || typeof registry !== 'object' || !Object.values(registry).every((f) => typeof f === 'function')) {
    throw new AppError('strategy_registry', `${url.pathname} must export STRATEGIES, a map of strategy name to factory (params) => Strategy`, { url: url.href });
  }
  return { url, strategies: registry as Readonly<Record<string, StrategyFactory>>, exports: mod };
}

/** Loads the factories of the strategy registry (see {@link loadStrategyRegistryModule}). */
export async function loadStrategyRegistry(url?: URL): Promise<Readonly<Record<string, StrategyFactory>>> {
  return (await loadStrategyRegistryModule(url)).strategies;
}
