/** A typed array of the same kind as `a` with `length` elements (≥ a.length), holding a copy of `a` at the start. */
export function growTo<A extends Float64Array | Float32Array | Int32Array | Int8Array | Uint8Array>(a: A, length: number): A {
  const b = new (a.constructor as new (n: number) => A)(length);
  b.set(a);
  return b;
}

/**
 * An empty array whose elements kind already holds any value (V8's PACKED_ELEMENTS): for arrays of strings, objects or
 * `undefined` that a hot path appends to. A `[]` literal starts as small integers only (PACKED_SMI_ELEMENTS); the
 * first push of another value changes its kind, so a push site sees two array maps and TurboFan no longer inlines
 * `push` there: every push calls the builtin (node 20 on this machine: a push of `undefined` 17–19 ns through the
 * builtin, 7 ns inlined).
 */
export function packedArray<T>(): T[] {
  const a: unknown[] = [undefined];
  a.pop();
  return a as T[];
}
