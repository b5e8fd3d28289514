/** A typed array of the same kind as `a` with `length` elements (≥ a.length), holding a copy of `a` at the start. */
export function growTo<A extends Float64Array | Float32Array | Int32Array | Int8Array | Uint8Array>(a: A, length: number): A {
  const b = new (a.constructor as new (n: number) => A)(length);
  b.set(a);
  return b;
}
