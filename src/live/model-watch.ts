import type { ExperimentModel } from '../backtest/run-experiment.js';
import type { Journal } from './journal.js';
import type { LiveSignals } from './live-signals.js';

/** Where a live run's model comes from: a registry alias that can move while the run goes on (`name@alias`). */
export interface ModelVersionSource {
  /** Registered model name. */
  readonly name: string;
  /** The version label the alias points at now (e.g. `v3`), without loading anything. */
  current(): Promise<string>;
  /** Loads the version the alias points at, one package per symbol (engine order), checksum and features verified by the loader. */
  load(): Promise<{ readonly version: string; readonly models: readonly ExperimentModel[] }>;
}

/** What a swap (or a refused one) reports to the run's metrics. */
export interface ModelSwapObserver {
  modelSwap(model: string, version: string, succeeded: boolean): void;
}

/** One swap decision, as journaled (`k: 'swap'`). */
export interface ModelSwapRecord {
  readonly t: number;
  readonly model: string;
  readonly from: string;
  readonly to: string;
  readonly ok: boolean;
  readonly reason?: string;
}

/**
 * Promote-to-live: after each bar the runner asks {@link check} whether the model's alias moved; a new version is
 * loaded through the 4-tier loader (checksum, feature order), its card's gate verdict is checked, and the swap is
 * staged; {@link apply} swaps it in at the next bar boundary (before that bar's signals), journals both versions and
 * closes the old models. A version that fails any check is never swapped in: the refusal is journaled, alerted and
 * counted, and that version is not tried again. `rollback` returns to the previous version (kept loaded).
 */
export class ModelWatch {
  private staged: { readonly version: string; readonly models: readonly ExperimentModel[] } | undefined;
  private previous: { readonly version: string; readonly models: readonly ExperimentModel[] } | undefined;
  private readonly refused = new Set<string>();
  /** Swaps and refusals of this process, in order. */
  readonly swaps: ModelSwapRecord[] = [];
  /** While pinned (after a rollback), the alias is not followed until it moves to another version. */
  private pinnedAgainst: string | undefined;

  constructor(
    private readonly source: ModelVersionSource,
    private readonly signals: LiveSignals,
    private current: { version: string; models: readonly ExperimentModel[] },
    private readonly options: { readonly allowUngated: boolean; readonly now: () => number; readonly log?: (line: string) => void; readonly observer?: ModelSwapObserver },
  ) {}

  private journal: Journal | undefined;

  /** The run's journal, where swaps are recorded (the live runner attaches its own). */
  attachJournal(journal: Journal): void {
    this.journal = journal;
  }

  /** The version the run's signals come from. */
  get version(): string {
    return this.current.version;
  }

  /** Asks the registry where the alias points; loads and verifies a new version and stages it for the next bar. Never throws. */
  async check(now: number): Promise<void> {
    if (this.staged !== undefined) return;
    let target: string;
    try {
      target = await this.source.current();
    } catch (e) {
      this.options.log?.(`model watch: ${this.source.name}: ${(e as Error).message} (asked again after the next bar)`);
      return;
    }
    if (target === this.current.version || this.refused.has(target) || target === this.pinnedAgainst) return;
    this.pinnedAgainst = undefined;
    let loaded: { readonly version: string; readonly models: readonly ExperimentModel[] };
    try {
      loaded = await this.source.load();
    } catch (e) {
      this.refuse(now, target, `load failed: ${(e as Error).message}`);
      return;
    }
    const problem = this.verify(loaded);
    if (problem !== undefined) {
      for (const m of loaded.models) await m.close();
      this.refuse(now, loaded.version, problem);
      return;
    }
    if (loaded.version !== target) {
      // The loader served another version than the alias names (a lower tier while the registry was unreachable,
      // or the alias moved again meanwhile): not what was promoted; asked again after the next bar.
      for (const m of loaded.models) await m.close();
      this.options.log?.(`model watch: ${this.source.name}@ → ${target}, but the loader served ${loaded.version}; asked again after the next bar`);
      return;
    }
    this.staged = loaded;
    this.options.log?.(`model watch: ${this.source.name} ${loaded.version} verified; swapped in at the next bar boundary`);
  }

  /** Swaps a staged version in (call at a bar boundary, before the bar's signals); returns whether it swapped. */
  async apply(now: number): Promise<boolean> {
    const staged = this.staged;
    if (staged === undefined) return false;
    this.staged = undefined;
    await this.swapTo(now, staged, 'alias moved');
    return true;
  }

  /** Returns to the previous version (kept loaded since the last swap) and stops following the alias until it moves again. */
  async rollback(now: number): Promise<boolean> {
    const previous = this.previous;
    if (previous === undefined) return false;
    this.pinnedAgainst = this.current.version;
    await this.swapTo(now, previous, 'rollback');
    return true;
  }

  /** Closes every model the watch holds, the current one included (the run is over). */
  async close(): Promise<void> {
    const held = new Set([this.current, this.previous, this.staged].flatMap((h) => h?.models ?? []));
    for (const m of held) await m.close();
    this.previous = this.staged = undefined;
  }

  private async swapTo(now: number, to: { readonly version: string; readonly models: readonly ExperimentModel[] }, reason: string): Promise<void> {
    const from = this.current;
    this.signals.swapModels(to.models.map((m) => m.model), { name: this.source.name, version: to.version, loadedAtMs: this.options.now(), checksums: to.models.map((m) => m.card.onnxSha256 ?? 'unknown') });
    // The version swapped out stays loaded for a rollback; the one before it is released.
    const released = this.previous;
    this.previous = from;
    this.current = { version: to.version, models: to.models };
    if (released !== undefined && released !== to) for (const m of released.models) await m.close();
    this.record({ t: now, model: this.source.name, from: from.version, to: to.version, ok: true, reason });
    this.options.observer?.modelSwap(this.source.name, to.version, true);
    this.options.log?.(`model swap: ${this.source.name} ${from.version} → ${to.version} (${reason})`);
  }

  private verify(loaded: { readonly version: string; readonly models: readonly ExperimentModel[] }): string | undefined {
    const names = this.signals.featureNames;
    for (const m of loaded.models) {
      if (!this.options.allowUngated && !m.card.gatesPassed) return `${m.card.name} ${loaded.version} failed its quality gates (the column does not allow ungated models)`;
      const f = m.model.featureNames;
      const k = f.findIndex((n, j) => n !== names[j]);
      if (f.length !== names.length || k >= 0) return `${m.card.name} ${loaded.version}: its features differ from the pipeline's at index ${k >= 0 ? k : Math.min(f.length, names.length)}`;
    }
    return undefined;
  }

  private refuse(now: number, version: string, reason: string): void {
    this.refused.add(version);
    this.record({ t: now, model: this.source.name, from: this.current.version, to: version, ok: false, reason });
    this.options.observer?.modelSwap(this.source.name, version, false);
    this.options.log?.(`ALERT model swap refused: ${this.source.name} ${version}: ${reason}; still on ${this.current.version}`);
  }

  private record(r: ModelSwapRecord): void {
    this.swaps.push(r);
    this.journal?.appendDurable({ k: 'swap', ...r });
  }
}
