import type { StateExpectation, StateSnapshot, StateStore } from '../engine/state-store.js';
import { checkKeyPart, decodeSnapshot, encodeSnapshot } from './state-codec.js';

/** The state store in memory (backtests, tests): the same encoding and checks as Redis, without a server. */
export class MemoryStateStore implements StateStore {
  private readonly data = new Map<string, Map<string, string>>();

  async saveAll(runner: string, snapshots: Readonly<Record<string, StateSnapshot>>): Promise<void> {
    const encoded = Object.entries(snapshots).map(([instrument, s]) => [checkKeyPart(instrument, 'instrument'), encodeSnapshot(s)] as const);
    let states = this.data.get(checkKeyPart(runner, 'runner'));
    if (!states) this.data.set(runner, (states = new Map()));
    for (const [instrument, text] of encoded) states.set(instrument, text);
  }

  async load(runner: string, instrument: string, expect: StateExpectation) {
    const text = this.data.get(runner)?.get(instrument);
    if (text === undefined) return { success: true as const, data: undefined };
    return decodeSnapshot(text, expect, `memory:${runner}/${instrument}`);
  }

  async instruments(runner: string): Promise<string[]> {
    return [...(this.data.get(runner)?.keys() ?? [])].sort();
  }

  async clear(runner: string): Promise<void> {
    this.data.delete(runner);
  }

  /** Replaces the stored text of one state (tests: corruption). */
  tamper(runner: string, instrument: string, text: string): void {
    this.data.get(runner)?.set(instrument, text);
  }

  async close(): Promise<void> {}
}
