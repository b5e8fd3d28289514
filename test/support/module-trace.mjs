// `node --import ./test/support/module-trace.mjs ...`: appends the URL of every module the process loads to the
// file named by TM_MODULE_TRACE (one per line). Used by cli-startup.test.ts to see which packages a command loads.
import { register } from 'node:module';

register('./module-trace-hooks.mjs', import.meta.url);
