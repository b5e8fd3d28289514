import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { BybitError } from './bybit-error.js';

/** An API key pair. Never logged, never put in an error message. */
export interface BybitKeys {
  readonly apiKey: string;
  readonly apiSecret: string;
}

export interface LoadBybitKeysOptions {
  /** JSON file `{ "apiKey": "...", "apiSecret": "..." }`; when given it is used instead of the environment. */
  readonly keyFile?: string;
}

const KeyFile = z.object({ apiKey: z.string().min(1), apiSecret: z.string().min(1) }).strict();

/**
 * Returns the Bybit API keys: from `keyFile` when given, else from `BYBIT_API_KEY` and `BYBIT_API_SECRET` of `env`.
 * A key file must lie outside every git work tree (no directory above it holds `.git`) and must not be readable,
 * writable or executable by group or others (`chmod 600`).
 * @throws BybitError `missing_credentials` naming the unset variable; `key_file_refused` naming the path and the rule
 * broken (its mode in octal, the work tree, the JSON problem). Messages never contain a key.
 * @example const keys = loadBybitKeys(process.env, { keyFile: '/home/me/.config/tm/bybit-demo.json' });
 */
export function loadBybitKeys(env: Readonly<Record<string, string | undefined>>, options: LoadBybitKeysOptions = {}): BybitKeys {
  if (options.keyFile !== undefined) return readKeyFile(options.keyFile);
  const apiKey = env['BYBIT_API_KEY']?.trim();
  const apiSecret = env['BYBIT_API_SECRET']?.trim();
  const missing = [!apiKey && 'BYBIT_API_KEY', !apiSecret && 'BYBIT_API_SECRET'].filter((x): x is string => typeof x === 'string');
  if (missing.length > 0) {
    throw new BybitError('missing_credentials', `Bybit keys: set ${missing.join(' and ')} (or pass a key file outside the repository, mode 600)`, { missing });
  }
  return { apiKey: apiKey!, apiSecret: apiSecret! };
}

function readKeyFile(path: string): BybitKeys {
  const absolute = resolve(path);
  const refuse = (rule: string, extra: Record<string, unknown> = {}) => new BybitError('key_file_refused', `Bybit key file ${absolute}: ${rule}`, { path: absolute, ...extra });
  if (!existsSync(absolute)) throw refuse('does not exist');
  const real = realpathSync(absolute);
  const tree = gitWorkTree(dirname(real));
  if (tree !== undefined) throw refuse(`must lie outside every git work tree, is inside ${tree} (move it, e.g. to ~/.config/trade-matrix/)`, { workTree: tree });
  const stat = statSync(real);
  if (!stat.isFile()) throw refuse('is not a regular file');
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw refuse(`must not be accessible by group or others, mode is ${mode.toString(8).padStart(4, '0')} (run chmod 600 ${absolute})`, { mode: `0${mode.toString(8)}` });
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(real, 'utf8'));
  } catch {
    // The parser's message may quote the file's text (a key): say only what is wrong.
    throw refuse('is not valid JSON (expected {"apiKey": "...", "apiSecret": "..."})');
  }
  const parsed = KeyFile.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)');
    throw refuse(`must be a JSON object with exactly the non-empty strings apiKey and apiSecret (problem in: ${[...new Set(fields)].join(', ')})`, { fields });
  }
  return { apiKey: parsed.data.apiKey.trim(), apiSecret: parsed.data.apiSecret.trim() };
}

/** The nearest directory at or above `dir` holding `.git` (a git work tree), or undefined. */
function gitWorkTree(dir: string): string | undefined {
  let current = dir;
  for (;;) {
    if (existsSync(join(current, '.git'))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Which Bybit a client talks to. */
export type BybitEnvironment = 'demo' | 'testnet' | 'mainnet';

export interface BybitEnvironmentSwitches {
  /** Bybit's testnet (ccxt sandbox mode) instead of the demo account. */
  readonly testnet?: boolean;
  /** Real money: needs `acceptRealMoney` and `TM_ALLOW_REAL_MONEY=1` too. */
  readonly mainnet?: boolean;
  readonly acceptRealMoney?: boolean;
}

/**
 * Returns the environment the switches select: demo by default, testnet when asked, mainnet only when `mainnet`,
 * `acceptRealMoney` and the variable `TM_ALLOW_REAL_MONEY=1` all hold.
 * @throws BybitError `real_money_refused` naming every missing switch; `invalid_argument` for testnet + mainnet.
 */
export function resolveBybitEnvironment(switches: BybitEnvironmentSwitches, env: Readonly<Record<string, string | undefined>>): BybitEnvironment {
  if (switches.testnet === true && switches.mainnet === true) {
    throw new BybitError('invalid_argument', 'Bybit environment: choose testnet or mainnet, not both', { testnet: true, mainnet: true });
  }
  if (switches.mainnet !== true) {
    if (switches.acceptRealMoney === true) throw new BybitError('real_money_refused', 'Bybit environment: acceptRealMoney was given without mainnet; real money needs mainnet: true as well', { missing: ['mainnet'] });
    return switches.testnet === true ? 'testnet' : 'demo';
  }
  const missing: string[] = [];
  if (switches.acceptRealMoney !== true) missing.push('acceptRealMoney: true (--i-accept-real-money)');
  if (env['TM_ALLOW_REAL_MONEY'] !== '1') missing.push(`TM_ALLOW_REAL_MONEY=1 in the environment (is ${env['TM_ALLOW_REAL_MONEY'] === undefined ? 'unset' : JSON.stringify(env['TM_ALLOW_REAL_MONEY'])})`);
  if (missing.length > 0) {
    throw new BybitError('real_money_refused', `Bybit mainnet trades real money and needs all three switches; missing: ${missing.join('; ')}`, { missing });
  }
  return 'mainnet';
}
