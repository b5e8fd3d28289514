import { describe, expect, it } from 'vitest';
import { SweepError } from './sweep-error.js';
import { formatResultObjects, parseResultObjects, parseStoredTrial, trialResultKey } from './trial-objects.js';
import { thrownAs } from '../../test/support/thrown.js';

/** The SweepError `f` throws. */
const refusal = (f: () => unknown): SweepError => thrownAs(f, SweepError);

describe('parseResultObjects / formatResultObjects / trialResultKey', () => {
  it('reads a bucket and a prefix, drops trailing slashes, and formats back', () => {
    expect(parseResultObjects('s3://trade-matrix/sweeps/2026')).toEqual({ bucket: 'trade-matrix', prefix: 'sweeps/2026' });
    expect(parseResultObjects('s3://trade-matrix/sweeps//')).toEqual({ bucket: 'trade-matrix', prefix: 'sweeps' });
    expect(parseResultObjects('s3://a.b-c')).toEqual({ bucket: 'a.b-c', prefix: '' });
    expect(parseResultObjects('s3://abc/')).toEqual({ bucket: 'abc', prefix: '' });
    expect(parseResultObjects('s3://abc/A_b.c-9')).toEqual({ bucket: 'abc', prefix: 'A_b.c-9' });
    expect(parseResultObjects(`s3://${'b'.repeat(63)}/x`).bucket).toHaveLength(63);
    for (const text of ['s3://trade-matrix/sweeps/2026', 's3://abc']) expect(formatResultObjects(parseResultObjects(text))).toBe(text);
  });

  it('keys: <prefix>/<sweep>/<hash>.json, no leading slash at the root', () => {
    expect(trialResultKey({ bucket: 'b', prefix: 'sweeps/x' }, 'S1', 'h1')).toBe('sweeps/x/S1/h1.json');
    expect(trialResultKey({ bucket: 'b', prefix: '' }, 'S1', 'h1')).toBe('S1/h1.json');
  });

  it('refuses other schemes, bad buckets and bad prefix segments, naming the option, the value and why', () => {
    const e = refusal(() => parseResultObjects('https://bucket/x'));
    expect(e.code).toBe('invalid_config');
    expect(e.message).toBe('--result-objects must be s3://<bucket>[/<prefix>] (an s3:// URL), was "https://bucket/x"');
    expect(e.context).toEqual({ option: '--result-objects', value: 'https://bucket/x' });
    expect(refusal(() => parseResultObjects('x', '--objects')).message).toBe('--objects must be s3://<bucket>[/<prefix>] (an s3:// URL), was "x"');
    const bucketWhy = 'a bucket name of 3-63 lower-case letters, digits, dots and hyphens';
    for (const text of ['s3://', 's3://ab', `s3://${'b'.repeat(64)}`, 's3://Upper', 's3://-abc', 's3://abc-', 's3://a_b', 's3:///x']) {
      expect(refusal(() => parseResultObjects(text)).message, text).toBe(`--result-objects must be s3://<bucket>[/<prefix>] (${bucketWhy}), was ${JSON.stringify(text)}`);
    }
    for (const [text, segment] of [['s3://abc/a//b', ''], ['s3://abc/a/../b', '..'], ['s3://abc/.', '.'], ['s3://abc/a b', 'a b'], ['s3://abc/x/é', 'é']] as const) {
      expect(refusal(() => parseResultObjects(text)).message, text).toBe(
        `--result-objects must be s3://<bucket>[/<prefix>] (prefix segments of letters, digits, '.', '_' and '-', not ${JSON.stringify(segment)}), was ${JSON.stringify(text)}`,
      );
    }
  });
});

describe('parseStoredTrial', () => {
  const result = { configHash: 'h1', point: { 'params.fast': 5 }, metrics: { sharpe: 1 }, returns: 'AAAA', startMs: 0 };
  const object = { bucket: 'b', key: 'k/S/h1.json', bytes: 10, sha256: 'ab' };

  it('reads both forms', () => {
    expect(parseStoredTrial('S', 'h1', JSON.stringify({ result, attempts: 2 }))).toEqual({ result, attempts: 2 });
    expect(parseStoredTrial('S', 'h1', JSON.stringify({ object: { ...object, extra: 1 }, attempts: 1 }))).toEqual({ object, attempts: 1 });
  });

  it('refuses what is neither, naming the sweep and the trial', () => {
    const cases: [string, string][] = [
      ['{', 'its entry in the results hash is not JSON: '],
      [JSON.stringify({ result }), 'its entry in the results hash has no attempts'],
      [JSON.stringify({ attempts: 1 }), 'its entry in the results hash has neither a result nor an object reference'],
    ];
    for (const field of ['bucket', 'key', 'bytes', 'sha256'] as const) {
      const { [field]: _gone, ...rest } = object;
      cases.push([JSON.stringify({ object: rest, attempts: 1 }), 'neither a result nor an object reference']);
      cases.push([JSON.stringify({ object: { ...object, [field]: field === 'bytes' ? '10' : 10 }, attempts: 1 }), 'neither a result nor an object reference']);
    }
    for (const [text, why] of cases) {
      const e = refusal(() => parseStoredTrial('S', 'h1', text));
      expect(e.code, text).toBe('corrupt_result');
      expect(e.message, text).toContain(`sweep S trial h1: ${why.startsWith('its') ? why : ''}`);
      expect(e.message, text).toContain(why);
      expect(e.context).toEqual({ sweepId: 'S', configHash: 'h1' });
    }
  });
});
