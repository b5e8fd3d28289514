import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BybitError } from './bybit-error.js';
import { BybitExecutionClient } from './bybit-execution-client.js';
import { loadBybitKeys, resolveBybitEnvironment } from './bybit-keys.js';
import { thrownAs } from '../../../test/support/thrown.js';

const KEY = 'kfKEYzz81Lq2Wc7';
const SECRET = 'kfSECRETq9Vb3Mn6Tx1';
const dir = mkdtempSync(join(tmpdir(), 'tm-bybit-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, content: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

/** The BybitError `f` throws. */
const failure = (f: () => unknown): BybitError => thrownAs(f, BybitError);

describe('loadBybitKeys', () => {
  it('reads BYBIT_API_KEY / BYBIT_API_SECRET; names the unset one', () => {
    expect(loadBybitKeys({ BYBIT_API_KEY: KEY, BYBIT_API_SECRET: SECRET })).toEqual({ apiKey: KEY, apiSecret: SECRET });
    const e = failure(() => loadBybitKeys({ BYBIT_API_KEY: KEY }));
    expect(e.code).toBe('missing_credentials');
    expect(e.message).toContain('BYBIT_API_SECRET');
    expect(e.message).not.toContain(KEY);
  });

  it('reads a mode-600 key file outside any git work tree', () => {
    const path = keyFile('ok.json', JSON.stringify({ apiKey: KEY, apiSecret: SECRET }), 0o600);
    expect(loadBybitKeys({}, { keyFile: path })).toEqual({ apiKey: KEY, apiSecret: SECRET });
  });

  it('refuses a key file readable by group or others, naming the path and the mode', () => {
    for (const mode of [0o640, 0o604, 0o644]) {
      const path = keyFile(`open-${mode.toString(8)}.json`, JSON.stringify({ apiKey: KEY, apiSecret: SECRET }), mode);
      const e = failure(() => loadBybitKeys({}, { keyFile: path }));
      expect(e.code).toBe('key_file_refused');
      expect(e.message).toContain(path);
      expect(e.message).toContain(`0${mode.toString(8)}`);
      expect(e.message).not.toContain(SECRET);
    }
  });

  it('refuses a key file inside a git work tree (this repository)', () => {
    const path = join(process.cwd(), `.tm-test-key-${process.pid}.json`);
    writeFileSync(path, JSON.stringify({ apiKey: KEY, apiSecret: SECRET }), { mode: 0o600 });
    try {
      const e = failure(() => loadBybitKeys({}, { keyFile: path }));
      expect(e.code).toBe('key_file_refused');
      expect(e.message).toMatch(/outside every git work tree/);
      expect(e.message).toContain(path);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it('refuses malformed key files without quoting their content', () => {
    const notJson = keyFile('bad.json', `{"apiKey": "${KEY}", apiSecret: ${SECRET}`, 0o600);
    const e1 = failure(() => loadBybitKeys({}, { keyFile: notJson }));
    expect(e1.message).toMatch(/not valid JSON/);
    expect(e1.message + JSON.stringify(e1.context)).not.toContain(KEY);
    const extra = keyFile('extra.json', JSON.stringify({ apiKey: KEY, apiSecret: SECRET, passphrase: 'x' }), 0o600);
    expect(failure(() => loadBybitKeys({}, { keyFile: extra })).message).toMatch(/exactly the non-empty strings apiKey and apiSecret/);
    expect(failure(() => loadBybitKeys({}, { keyFile: join(dir, 'absent.json') })).message).toMatch(/does not exist/);
  });
});

describe('loadBybitKeys: what it reads and how it refuses', () => {
  it('trims the keys (a trailing newline from `echo` or an editor) and counts a blank one as unset', () => {
    expect(loadBybitKeys({ BYBIT_API_KEY: ` ${KEY}\n`, BYBIT_API_SECRET: `\t${SECRET} ` })).toEqual({ apiKey: KEY, apiSecret: SECRET });
    const path = keyFile('padded.json', JSON.stringify({ apiKey: `${KEY}\n`, apiSecret: ` ${SECRET}` }), 0o600);
    expect(loadBybitKeys({}, { keyFile: path })).toEqual({ apiKey: KEY, apiSecret: SECRET });
    const blank = failure(() => loadBybitKeys({ BYBIT_API_KEY: '  ', BYBIT_API_SECRET: SECRET }));
    expect(blank.message).toBe('Bybit keys: set BYBIT_API_KEY (or pass a key file outside the repository, mode 600)');
    expect(blank.context).toEqual({ missing: ['BYBIT_API_KEY'] });
    const none = failure(() => loadBybitKeys({}));
    expect(none.message).toBe('Bybit keys: set BYBIT_API_KEY and BYBIT_API_SECRET (or pass a key file outside the repository, mode 600)');
    expect(none.context).toEqual({ missing: ['BYBIT_API_KEY', 'BYBIT_API_SECRET'] });
    expect(failure(() => loadBybitKeys({ BYBIT_API_KEY: KEY })).context).toEqual({ missing: ['BYBIT_API_SECRET'] });
  });

  it('a key file wins over the environment', () => {
    const path = keyFile('wins.json', JSON.stringify({ apiKey: 'fileKEY123', apiSecret: 'fileSECRET123' }), 0o600);
    expect(loadBybitKeys({ BYBIT_API_KEY: KEY, BYBIT_API_SECRET: SECRET }, { keyFile: path })).toEqual({ apiKey: 'fileKEY123', apiSecret: 'fileSECRET123' });
  });

  it('refuses a key path that is not a regular file', () => {
    const folder = join(dir, 'a-folder.json');
    mkdirSync(folder, { mode: 0o700 });
    const e = failure(() => loadBybitKeys({}, { keyFile: folder }));
    expect(e.code).toBe('key_file_refused');
    expect(e.message).toBe(`Bybit key file ${folder}: is not a regular file`);
    expect(e.context).toEqual({ path: folder });
  });

  it('names the path, the rule and the values involved in the context', () => {
    const open = keyFile('open.json', JSON.stringify({ apiKey: KEY, apiSecret: SECRET }), 0o640);
    const mode = failure(() => loadBybitKeys({}, { keyFile: open }));
    expect(mode.message).toBe(`Bybit key file ${open}: must not be accessible by group or others, mode is 0640 (run chmod 600 ${open})`);
    expect(mode.context).toEqual({ path: open, mode: '0640' });
    const absent = join(dir, 'absent.json');
    expect(failure(() => loadBybitKeys({}, { keyFile: absent })).context).toEqual({ path: absent });
    const notJson = keyFile('broken.json', '{', 0o600);
    expect(failure(() => loadBybitKeys({}, { keyFile: notJson })).message).toBe(`Bybit key file ${notJson}: is not valid JSON (expected {"apiKey": "...", "apiSecret": "..."})`);
    const inTree = join(process.cwd(), `.tm-test-key-ctx-${process.pid}.json`);
    writeFileSync(inTree, JSON.stringify({ apiKey: KEY, apiSecret: SECRET }), { mode: 0o600 });
    try {
      // The nearest folder above the file that holds .git (this checkout, or the one a mutation sandbox sits in).
      const context = failure(() => loadBybitKeys({}, { keyFile: inTree })).context;
      expect(Object.keys(context).sort()).toEqual(['path', 'workTree']);
      expect(context['path']).toBe(inTree);
      expect(existsSync(join(String(context['workTree']), '.git'))).toBe(true);
      expect(inTree.startsWith(`${String(context['workTree'])}/`)).toBe(true);
    } finally {
      rmSync(inTree, { force: true });
    }
  });

  it('names the fields a malformed key file gets wrong, each once, never their values', () => {
    const refusal = (name: string, content: unknown) => failure(() => loadBybitKeys({}, { keyFile: keyFile(name, JSON.stringify(content), 0o600) }));
    const rule = 'must be a JSON object with exactly the non-empty strings apiKey and apiSecret';
    const noSecret = refusal('no-secret.json', { apiKey: KEY });
    expect(noSecret.message).toMatch(new RegExp(`: ${rule} \\(problem in: apiSecret\\)$`));
    expect(noSecret.context['fields']).toEqual(['apiSecret']);
    const both = refusal('both.json', { apiKey: '', apiSecret: 7 });
    expect(both.message).toMatch(/\(problem in: apiKey, apiSecret\)$/);
    expect(both.context['fields']).toEqual(['apiKey', 'apiSecret']);
    const extra = refusal('extra2.json', { apiKey: KEY, apiSecret: SECRET, passphrase: 'pw1234567' });
    expect(extra.message).toMatch(/\(problem in: \(root\)\)$/);
    expect(extra.context['fields']).toEqual(['(root)']);
    expect(extra.message + JSON.stringify(extra.context)).not.toMatch(new RegExp(`${KEY}|${SECRET}|pw1234567`));
    expect(refusal('array.json', [KEY, SECRET]).context['fields']).toEqual(['(root)']);
  });
});

describe('real-money guard', () => {
  it('is demo by default, testnet when asked', () => {
    expect(resolveBybitEnvironment({}, {})).toBe('demo');
    expect(resolveBybitEnvironment({ testnet: true }, {})).toBe('testnet');
  });

  it('refuses mainnet without acceptRealMoney, naming it', () => {
    const e = failure(() => resolveBybitEnvironment({ mainnet: true }, { TM_ALLOW_REAL_MONEY: '1' }));
    expect(e.code).toBe('real_money_refused');
    expect(e.message).toContain('acceptRealMoney');
    expect(e.message).not.toContain('TM_ALLOW_REAL_MONEY=1 in the environment');
  });

  it('refuses mainnet without TM_ALLOW_REAL_MONEY=1, naming it and its value', () => {
    expect(failure(() => resolveBybitEnvironment({ mainnet: true, acceptRealMoney: true }, {})).message).toMatch(/TM_ALLOW_REAL_MONEY=1 in the environment \(is unset\)/);
    expect(failure(() => resolveBybitEnvironment({ mainnet: true, acceptRealMoney: true }, { TM_ALLOW_REAL_MONEY: 'yes' })).message).toMatch(/\(is "yes"\)/);
  });

  it('names what is wrong with the switches in the message and the context', () => {
    const both = failure(() => resolveBybitEnvironment({ testnet: true, mainnet: true }, {}));
    expect(both.message).toBe('Bybit environment: choose testnet or mainnet, not both');
    expect(both.context).toEqual({ testnet: true, mainnet: true });
    const alone = failure(() => resolveBybitEnvironment({ acceptRealMoney: true }, {}));
    expect(alone.message).toBe('Bybit environment: acceptRealMoney was given without mainnet; real money needs mainnet: true as well');
    expect(alone.context).toEqual({ missing: ['mainnet'] });
    const neither = failure(() => resolveBybitEnvironment({ mainnet: true }, { TM_ALLOW_REAL_MONEY: '0' }));
    expect(neither.message).toBe('Bybit mainnet trades real money and needs all three switches; missing: acceptRealMoney: true (--i-accept-real-money); TM_ALLOW_REAL_MONEY=1 in the environment (is "0")');
    expect(neither.context).toEqual({ missing: ['acceptRealMoney: true (--i-accept-real-money)', 'TM_ALLOW_REAL_MONEY=1 in the environment (is "0")'] });
  });

  it('refuses acceptRealMoney or the variable alone (mainnet not asked) and testnet + mainnet together', () => {
    expect(failure(() => resolveBybitEnvironment({ acceptRealMoney: true }, { TM_ALLOW_REAL_MONEY: '1' })).code).toBe('real_money_refused');
    expect(resolveBybitEnvironment({}, { TM_ALLOW_REAL_MONEY: '1' })).toBe('demo');
    expect(failure(() => resolveBybitEnvironment({ testnet: true, mainnet: true, acceptRealMoney: true }, { TM_ALLOW_REAL_MONEY: '1' })).code).toBe('invalid_argument');
  });

  it('allows mainnet only with all three switches; the client applies the same guard', () => {
    expect(resolveBybitEnvironment({ mainnet: true, acceptRealMoney: true }, { TM_ALLOW_REAL_MONEY: '1' })).toBe('mainnet');
    const deps = { instruments: [], keys: { apiKey: KEY, apiSecret: SECRET }, clock: { now: () => 0 } };
    expect(failure(() => new BybitExecutionClient({ mainnet: true }, { ...deps, env: { TM_ALLOW_REAL_MONEY: '1' } })).code).toBe('real_money_refused');
    expect(failure(() => new BybitExecutionClient({ mainnet: true, acceptRealMoney: true }, { ...deps, env: {} })).code).toBe('real_money_refused');
    expect(new BybitExecutionClient({ mainnet: true, acceptRealMoney: true }, { ...deps, env: { TM_ALLOW_REAL_MONEY: '1' } }).environment).toBe('mainnet');
    expect(new BybitExecutionClient({}, { ...deps, env: {} }).environment).toBe('demo');
    expect(failure(() => new BybitExecutionClient({ mainnet: true, unknown: 1 } as never, { ...deps, env: {} })).code).toBe('invalid_argument');
  });

  it('points every host at the demo domain by default, at testnet or mainnet hosts when asked, at apiUrl when given', () => {
    const deps = { instruments: [], keys: { apiKey: KEY, apiSecret: SECRET }, clock: { now: () => 0 }, env: {} };
    const urls = (c: BybitExecutionClient) => Object.values((c as unknown as { exchange: { urls: { api: Record<string, string> } } }).exchange.urls.api);
    expect(urls(new BybitExecutionClient({}, deps)).every((u) => u.startsWith('https://api-demo.'))).toBe(true);
    expect(urls(new BybitExecutionClient({ testnet: true }, deps)).every((u) => u.includes('testnet'))).toBe(true);
    // Mainnet (both switches) trades on the real hosts: neither the demo nor the testnet domain.
    const real = new BybitExecutionClient({ mainnet: true, acceptRealMoney: true }, { ...deps, env: { TM_ALLOW_REAL_MONEY: '1' } });
    expect(urls(real).length).toBeGreaterThan(0);
    expect(urls(real).filter((u) => u !== 'https://api.{hostname}')).toEqual([]); // ccxt fills in its hostname
    expect((real as unknown as { exchange: { hostname: string } }).exchange.hostname).toBe('bybit.com');
    expect(urls(new BybitExecutionClient({ apiUrl: 'http://127.0.0.1:9/' }, deps)).every((u) => u === 'http://127.0.0.1:9')).toBe(true);
  });
});
