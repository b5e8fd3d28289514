import { expect } from 'vitest';

/** The error `f` throws (undefined when it returns): for tests that check an error's class, code and context. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The error `f` throws, checked to be a `type` (the test fails when `f` returns or throws anything else). */
export function thrownAs<E extends Error>(f: () => unknown, type: abstract new (...args: never[]) => E): E {
  const e = thrown(f);
  expect(e).toBeInstanceOf(type);
  return e as E;
}
