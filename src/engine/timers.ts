/**
 * Named one-shot timers on engine time. Fired in due-time order (ties: the order they were set); a timer set while
 * firing fires in the same call when it is already due.
 */
export class Timers {
  /** In the order set (appended, removed with splice): the first of equal due times found is the one set first. */
  private readonly pending: { name: string; at: number }[] = [];

  get size(): number {
    return this.pending.length;
  }

  set(name: string, at: number): void {
    this.pending.push({ name, at });
  }

  /** Calls `fire(name)` for every timer due at or before `now`, earliest first. */
  fireDue(now: number, fire: (name: string) => void): void {
    const p = this.pending;
    while (p.length > 0) {
      let k = -1;
      for (let j = 0; j < p.length; j++) {
        const t = p[j]!;
        if (t.at <= now && (k < 0 || t.at < p[k]!.at)) k = j;
      }
      if (k < 0) return;
      const [t] = p.splice(k, 1);
      fire(t!.name);
    }
  }
}
