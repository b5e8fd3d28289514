import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { growTo, packedArray } from './typed-arrays.js';

describe('growTo', () => {
  it('copies the array into a longer one of the same kind, zeros after it', () => {
    const b = growTo(Int32Array.from([1, 2, 3]), 5);
    expect(b).toBeInstanceOf(Int32Array);
    expect(Array.from(b)).toEqual([1, 2, 3, 0, 0]);
  });
});

describe('packedArray', () => {
  // V8's own test intrinsics, compiled after the flag is set (the flag only applies to code compiled later).
  setFlagsFromString('--allow-natives-syntax');
  const hasObjectElements = new Function('a', 'return %HasObjectElements(a)') as (a: unknown[]) => boolean;

  it('is empty and already of the elements kind any value takes, where a [] literal is not', () => {
    const a = packedArray<string | undefined>();
    expect(a).toEqual([]);
    expect(hasObjectElements(a)).toBe(true);
    expect(hasObjectElements([])).toBe(false);
    a.push('id', undefined);
    expect(a).toEqual(['id', undefined]);
  });
});
