import { describe, expect, it } from 'vitest';
import { AppError } from '../core/app-error.js';
import { DEFAULT_FEATURE_SPEC, FEATURE_FUNCTIONS, FeaturePipeline, canonicalJson, featureSpecHash, type FeatureSpec, type FeatureSpecEntry } from './index.js';

const withEntry = (spec: FeatureSpec, i: number, e: FeatureSpecEntry): FeatureSpec => spec.map((x, k) => (k === i ? e : x));

// Computed in each test, not when the file is collected: a mutant that throws at collection time would otherwise pass
// unseen by mutation testing (no test fails when none is collected).
const defaultHash = () => featureSpecHash(DEFAULT_FEATURE_SPEC);

describe('featureSpecHash', () => {
  it('is a sha256 hex digest, stable across calls and copies, independent of param key order', () => {
    const base = defaultHash();
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(featureSpecHash(JSON.parse(JSON.stringify(DEFAULT_FEATURE_SPEC)) as FeatureSpec)).toBe(base);
    const macdIndex = DEFAULT_FEATURE_SPEC.findIndex((e) => e.fn === 'macd');
    const reordered = withEntry(DEFAULT_FEATURE_SPEC, macdIndex, { name: 'macd_12_26_9', fn: 'macd', params: { normalize: true, signal: 9, slow: 26, fast: 12 } });
    expect(featureSpecHash(reordered)).toBe(base);
  });

  it('the default spec’s hash is pinned: models registered with it name it, so any change to the default features (or to how a spec is hashed) must be deliberate', () => {
    expect(defaultHash()).toBe('66bac71b1846badcc66b3de9b0d4393e17f6cf32cc1c69dbf35190783383f3f5');
  });

  it('changes when any param, name, fn or the entry order changes', () => {
    const base = defaultHash();
    const seen = new Set([base]);
    const variants: FeatureSpec[] = [];
    DEFAULT_FEATURE_SPEC.forEach((e, i) => {
      for (const [k, v] of Object.entries(e.params)) {
        const changed = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : `${v}x`;
        variants.push(withEntry(DEFAULT_FEATURE_SPEC, i, { ...e, params: { ...e.params, [k]: changed } }));
      }
      variants.push(withEntry(DEFAULT_FEATURE_SPEC, i, { ...e, name: `${e.name}_x` }));
    });
    variants.push([DEFAULT_FEATURE_SPEC[1]!, DEFAULT_FEATURE_SPEC[0]!, ...DEFAULT_FEATURE_SPEC.slice(2)]);
    variants.push(DEFAULT_FEATURE_SPEC.slice(0, -1));
    variants.push(withEntry(DEFAULT_FEATURE_SPEC, 0, { name: 'log_return_1', fn: 'reference-log-return', params: { horizon: 1 } }));
    for (const v of variants) {
      const h = featureSpecHash(v);
      expect(seen.has(h)).toBe(false);
      seen.add(h);
    }
    expect(seen.size).toBe(variants.length + 1);
  });

  it('hashes canonical JSON that includes the version string', () => {
    expect(canonicalJson({ b: 1, a: [true, 'x', { d: 0.1, c: null }] })).toBe('{"a":[true,"x",{"c":null,"d":0.1}],"b":1}');
    expect(() => canonicalJson({ a: NaN })).toThrow('finite');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson(-2.5)).toBe('-2.5');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([[1, { z: [] }]])).toBe('[[1,{"z":[]}]]');
    const error = (() => {
      try {
        canonicalJson([1, Infinity]);
      } catch (e) {
        return e as AppError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AppError);
    expect(error!.code).toBe('invalid_feature_spec');
    expect(error!.message).toBe('feature spec values must be finite numbers, was Infinity');
    expect(error!.context).toEqual({ value: Infinity });
    expect(() => canonicalJson(undefined)).toThrow('feature spec values must be JSON scalars, arrays or objects, was undefined');
    expect(() => canonicalJson(() => 1)).toThrow('JSON scalars, arrays or objects');
  });
});

describe('FeaturePipeline.fromSpec', () => {
  it('names columns in spec order, multi-output entries as name.output', () => {
    const p = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    expect(p.names.length).toBe(31);
    expect(p.names.slice(11, 14)).toEqual(['macd_12_26_9.line', 'macd_12_26_9.signal', 'macd_12_26_9.histogram']);
    expect(p.names.at(-1)).toBe('calendar.weekday_cos');
    expect(p.hash).toBe(featureSpecHash(DEFAULT_FEATURE_SPEC));
    expect([...p.requiredInputs].sort()).toEqual(['dvol', 'funding', 'referenceClose']);
  });

  it('every feature function is used by the default spec', () => {
    expect(new Set(DEFAULT_FEATURE_SPEC.map((e) => e.fn))).toEqual(new Set(Object.keys(FEATURE_FUNCTIONS)));
  });

  it('rejects unknown functions, bad params, missing params and duplicate names, naming them', () => {
    const code = (spec: FeatureSpec): string => {
      try {
        FeaturePipeline.fromSpec(spec);
        return 'ok';
      } catch (e) {
        return `${(e as AppError).code}: ${(e as Error).message}`;
      }
    };
    expect(code([{ name: 'a', fn: 'nope' as never, params: {} }])).toMatch(/^unknown_feature: spec\[0\]\.fn must be one of log-return, .*was "nope"/);
    expect(code([{ name: 'a', fn: 'log-return', params: { horizon: 0 } }])).toMatch(/^invalid_feature_params: spec\[0\] \(a, log-return\): params\.horizon/);
    expect(code([{ name: 'a', fn: 'log-return', params: {} }])).toMatch(/params\.horizon/);
    expect(code([{ name: 'a', fn: 'log-return', params: { horizon: 1, extra: 1 } }])).toMatch(/params\.extra/);
    expect(code([{ name: 'a', fn: 'calendar', params: {} }, { name: 'a', fn: 'calendar', params: {} }])).toMatch(/^invalid_feature_spec: spec\[1\]\.name must be unique/);
    expect(code([{ name: 'Bad Name', fn: 'calendar', params: {} }])).toMatch(/^invalid_feature_spec/);
  });

  it('computeBatch names the missing extra input and the features that need it', () => {
    const p = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    const z = new Float64Array(3);
    const inputs = { ts: Float64Array.of(0, 1, 2), timeframeMs: 1, open: z, high: z, low: z, close: z, volume: z };
    expect(() => p.computeBatch(inputs)).toThrow(/inputs\.(funding|dvol|referenceClose) is required by/);
    expect(() => FeaturePipeline.fromSpec([{ name: 'r', fn: 'log-return', params: { horizon: 1 } }]).computeBatch({ ...inputs, ts: Float64Array.of(0, 2, 1) })).toThrow(
      '`ts` must be strictly increasing, was 2 then 1 at index 2',
    );
  });
});
