import { describe, expect, it } from 'vitest';
import { applyPoint, expandSweep, parseSweepConfig, sweepIdOf, type SweepConfig } from './sweep-config.js';

const parse = (raw: unknown): SweepConfig => {
  const r = parseSweepConfig(raw, 'sweep.json');
  if (!r.success) throw r.error;
  return r.data;
};

describe('sweep config', () => {
  it('expands a grid in declaration order, the first axis slowest, with defaults filled in', () => {
    const c = parse({ name: 'g', base: 'b.json', search: { kind: 'grid', params: { 'params.fast': [5, 10], 'params.slow': [50, 100, 200] } } });
    expect(c.objective).toBe('sharpe');
    expect(c.retry).toEqual({ attempts: 3, backoffMs: 1000 });
    expect(c.pbo).toEqual({ blocks: 8 });
    expect(expandSweep(c.search)).toEqual([
      { 'params.fast': 5, 'params.slow': 50 },
      { 'params.fast': 5, 'params.slow': 100 },
      { 'params.fast': 5, 'params.slow': 200 },
      { 'params.fast': 10, 'params.slow': 50 },
      { 'params.fast': 10, 'params.slow': 100 },
      { 'params.fast': 10, 'params.slow': 200 },
    ]);
  });

  it('draws a random search from its seed: same seed same points, another seed other points, within bounds', () => {
    const search = (seed: number) => parse({ name: 'r', base: 'b.json', search: { kind: 'random', trials: 50, seed, params: { 'params.fast': { kind: 'int', min: 2, max: 30 }, 'params.allocation': { kind: 'log-uniform', min: 0.05, max: 1 }, 'params.allowShort': { kind: 'choice', values: [true, false] } } } }).search;
    const a = expandSweep(search(7));
    expect(expandSweep(search(7))).toEqual(a);
    expect(expandSweep(search(8))).not.toEqual(a);
    expect(a.length).toBeGreaterThan(40); // repeats are dropped, few at this size
    for (const p of a) {
      expect(Number.isInteger(p['params.fast']) && (p['params.fast'] as number) >= 2 && (p['params.fast'] as number) <= 30).toBe(true);
      expect(p['params.allocation'] as number).toBeGreaterThanOrEqual(0.05);
      expect(p['params.allocation'] as number).toBeLessThan(1);
    }
    expect(new Set(a.map((p) => p['params.allowShort'])).size).toBe(2);
  });

  it('refuses unknown keys, empty axes, odd PBO blocks and bad paths, naming the JSON path', () => {
    const problems = [
      [{ name: 'x', base: 'b.json', search: { kind: 'grid', params: { 'params.fast': [1] } }, extra: 1 }, '$.extra: unknown key'],
      [{ name: 'x', base: 'b.json', search: { kind: 'grid', params: { 'params.fast': [] } } }, '$.search.params["params.fast"]: must list >= 1 value'],
      [{ name: 'x', base: 'b.json', search: { kind: 'grid', params: { 'params.fast': [1] } }, pbo: { blocks: 5 } }, '$.pbo.blocks: must be even'],
      [{ name: 'x', base: 'b.json', search: { kind: 'grid', params: { 'params..fast': [1] } } }, '$.search.params: must be keyed by a dotted key path into the experiment like params.fast, was "params..fast"'],
      [{ name: 'x', base: 'b.json', search: { kind: 'grid', params: {} } }, '$.search.params: must name >= 1 parameter'],
    ] as const;
    for (const [raw, message] of problems) {
      const r = parseSweepConfig(raw, 'sweep.json');
      expect(r.success).toBe(false);
      if (!r.success) expect(r.error.message).toContain(message);
    }
  });

  it('applies a point to a copy of the base experiment, and names a path that crosses a non-object', () => {
    const base = { params: { fast: 1, slow: 2 }, data: { timeframe: '4h' } };
    expect(applyPoint(base, { 'params.fast': 10, 'data.timeframe': '1h', 'regime.states': 2 })).toEqual({ params: { fast: 10, slow: 2 }, data: { timeframe: '1h' }, regime: { states: 2 } });
    expect(base.params.fast).toBe(1);
    expect(() => applyPoint(base, { 'params.fast.x': 1 })).toThrow('search.params["params.fast.x"]: params.fast is 1 in the base experiment, not an object');
  });

  it('names a sweep by its config and base: same inputs same id, a changed axis or base another id, the description not', () => {
    const raw = { name: 'g', base: 'b.json', search: { kind: 'grid', params: { 'params.fast': [5, 10] } } };
    const id = sweepIdOf(parse(raw), { params: { slow: 100 } });
    expect(id).toMatch(/^g-[0-9a-f]{12}$/);
    expect(sweepIdOf(parse({ ...raw, description: 'other words' }), { params: { slow: 100 } })).toBe(id);
    expect(sweepIdOf(parse(raw), { params: { slow: 200 } })).not.toBe(id);
    expect(sweepIdOf(parse({ ...raw, search: { kind: 'grid', params: { 'params.fast': [5, 11] } } }), { params: { slow: 100 } })).not.toBe(id);
  });
});
