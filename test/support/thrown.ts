/** The error `f` throws (undefined when it returns): for tests that check an error's class, code and context. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
