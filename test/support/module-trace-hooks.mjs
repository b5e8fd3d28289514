// Module resolution hook of module-trace.mjs (runs on the loader thread).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (process.env.TM_MODULE_TRACE) appendFileSync(process.env.TM_MODULE_TRACE, `${result.url}\n`);
  return result;
}
