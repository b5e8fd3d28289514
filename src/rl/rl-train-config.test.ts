import { describe, expect, it } from 'vitest';
import { loadRlTrainConfig, parseRlTrainConfig } from './rl-train-config.js';

describe('RlTrainConfig', () => {
  it('fills the schemas\' defaults, puts the top-level seed into sac, and deep-freezes', () => {
    const r = parseRlTrainConfig({ name: 'x', experiment: 'experiments/momentum-regime-kelly.json', seed: 9 });
    if (!r.success) throw r.error;
    expect(r.data.sac).toMatchObject({ seed: 9, hiddenSizes: [64, 64], batchSize: 256, tau: 0.005, gamma: 0.99 });
    expect(r.data.curriculum.stages.map((s) => s.steps)).toEqual([10_000, 10_000, 20_000, 20_000]);
    expect(r.data.walkForward).toMatchObject({ folds: 5, purgeGap: 200 });
    expect(r.data.environment.reward).toEqual({ scale: 100, drawdownPenalty: 1 });
    expect(Object.isFrozen(r.data.sac)).toBe(true);
  });

  it('refuses unknown keys, bad values and sac.seed, naming the path', () => {
    const base = { name: 'x', experiment: 'e.json' };
    const msg = (raw: unknown) => {
      const r = parseRlTrainConfig(raw, 'f.json');
      return r.success ? 'accepted' : r.error.message;
    };
    expect(msg({ ...base, curriculum: { stage: [] } })).toBe('f.json: $.curriculum.stage: unknown key "stage": remove it or fix its spelling');
    expect(msg({ ...base, walkForward: { folds: 0 } })).toMatch(/^f\.json: \$\.walkForward\.folds: .*>=1.*was 0/);
    expect(msg({ ...base, sac: { seed: 1 } })).toBe('f.json: $.sac.seed: set the top-level $.seed instead (one seed per run)');
    expect(msg({ ...base, name: 'a b' })).toMatch(/^f\.json: \$\.name: /);
    expect(msg({ name: 'x' })).toMatch(/^f\.json: \$\.experiment: /);
  });

  it('the committed run config parses', async () => {
    const r = await loadRlTrainConfig('experiments/rl/sac-momentum-4h.json');
    if (!r.success) throw r.error;
    expect(r.data).toMatchObject({ name: 'sac-momentum-4h', seed: 1, sac: { seed: 1, hiddenSizes: [64, 64], batchSize: 64 }, walkForward: { folds: 2 } });
  });
});
