import { appendFileSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/shared-data.js';
import { thrown } from '../../test/support/thrown.js';
import { Journal, JournalError, readJournal, readJournalTail } from './journal.js';
import { RunnerStateError, loadRunnerState, saveRunnerState, type LiveRunnerState } from './runner-state.js';

describe('trading journal', () => {
  it('appends records line by line and reads them back in order', () => {
    const path = join(tempDir(), 'j', 'journal.jsonl');
    const j = new Journal(path);
    j.appendDurable({ k: 'bar', i: 0, ts: 1, o: 1, h: 2, l: 0.5, c: 1.5, v: 10 });
    j.append({ k: 'submit', t: 2, id: 'a_b', i: 0, side: 'buy', type: 'market', q: 1, tif: 'GTC' });
    j.close();
    const again = new Journal(path); // a restart appends to the same file
    again.append({ k: 'stop', t: 3, reason: 'x' });
    again.close();
    const { records, tornTail } = readJournal(path);
    expect(tornTail).toBe(false);
    expect(records.map((r) => r.k)).toEqual(['bar', 'submit', 'stop']);
  });

  it('gives the byte offset of each record: the journal size a saved state records points at the records after it', () => {
    const path = join(tempDir(), 'journal.jsonl');
    const j = new Journal(path);
    j.append({ k: 'state', t: 1, state: 'HALTED', reason: 'kill switch — the operator’s', trigger: 'manual' }); // multi-byte characters
    j.append({ k: 'stop', t: 2, reason: 'x' });
    const saved = j.size(); // as a state saved now records it
    j.append({ k: 'state', t: 3, state: 'ACTIVE', reason: 'unhalted ✓', trigger: 'manual' });
    j.close();
    const { records, offsets } = readJournal(path);
    expect(offsets).toHaveLength(3);
    expect(offsets[0]).toBe(0);
    expect(offsets[2]).toBe(saved);
    records.forEach((r, k) => expect(readJournalTail(path, offsets[k]!)[0]).toEqual(r));
  });

  it('drops a torn last line (a crash mid-write) and reports it; refuses a corrupt line in the middle', () => {
    const path = join(tempDir(), 'journal.jsonl');
    const j = new Journal(path);
    j.append({ k: 'stop', t: 1, reason: 'x' });
    j.close();
    appendFileSync(path, '{"k":"bar","i":0,"ts":');
    expect(readJournal(path)).toMatchObject({ records: [{ k: 'stop' }], tornTail: true });
    writeFileSync(path, '{"k":"stop","t":1,"reason":"x"}\nnot json\n{"k":"stop","t":2,"reason":"y"}\n');
    expect(() => readJournal(path)).toThrow(JournalError);
    expect(() => readJournal(path)).toThrow(/line 2/);
  });

  it('refuses a line that is JSON but no journal record (not an object, null, no kind), naming the file, the line and the code', () => {
    const path = join(tempDir(), 'journal.jsonl');
    for (const bad of ['42', 'null', '"stop"', '{"t":1}', '{"k":7}']) {
      writeFileSync(path, `{"k":"stop","t":1,"reason":"x"}\n${bad}\n`);
      const e = thrown(() => readJournal(path));
      expect(e, bad).toBeInstanceOf(JournalError);
      expect((e as JournalError).code).toBe('journal_corrupt');
      expect((e as JournalError).message).toBe(`trading journal ${path} line 2 is not a journal record: not a journal record`);
      expect((e as JournalError).context).toEqual({ path, line: 2 });
    }
    const missing = join(tempDir(), 'none.jsonl');
    expect(thrown(() => readJournal(missing))).toMatchObject({ code: 'journal_corrupt', message: `trading journal ${missing} does not exist`, context: { path: missing } });
  });
});

describe('journal bar lines and held records', () => {
  it('appendBar writes the line append writes for the same bar record (signal absent, null for NaN, warm-up flag)', () => {
    const path = join(tempDir(), 'journal.jsonl');
    const j = new Journal(path);
    const cases: [number, number, number, number, number, number, number, number | undefined, boolean][] = [
      [0, 1704067200000, 42000.5, 42100, 41950.25, 42010, 123.456, undefined, false],
      [1, 1704081600000, 2300, 2310.1, 2290, 2305.75, 1e-7, -0.00123, true],
      [2, 1704096000000, 1e21, 2e21, 0.5, 1.5e21, 0, NaN, true],
    ];
    for (const [i, ts, o, h, l, c, v, s, warmup] of cases) {
      j.appendBar(i, ts, o, h, l, c, v, s, warmup);
      j.append({ k: 'bar', i, ts, o, h, l, c, v, ...(s === undefined ? {} : { s: Number.isNaN(s) ? null : s }), ...(warmup ? { warmup: true as const } : {}) });
    }
    j.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    for (let k = 0; k < 6; k += 2) expect(lines[k]).toBe(lines[k + 1]);
    expect(lines[4]).toContain('"s":null,"warmup":true');
  });

  it('held records are written in one piece at release (and by sync), in order with the others', () => {
    const path = join(tempDir(), 'journal.jsonl');
    const j = new Journal(path);
    j.append({ k: 'stop', t: 1, reason: 'a' });
    j.hold();
    j.appendBar(0, 5, 1, 1, 1, 1, 1, undefined, true);
    j.append({ k: 'stop', t: 2, reason: 'b' });
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1); // held, not written yet
    j.release();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3);
    j.hold();
    j.append({ k: 'stop', t: 3, reason: 'c' });
    j.sync();
    j.close();
    expect(readJournal(path).records.map((r) => (r.k === 'stop' ? r.reason : r.k))).toEqual(['a', 'bar', 'b', 'c']);
    expect(j.count).toBe(4);
  });
});

describe('journal durability and write errors', () => {
  it('fsyncs only what was appended since the last fsync: sync and syncAsync skip a clean journal, release held records first', async () => {
    const path = join(tempDir(), 'journal.jsonl');
    const j = new Journal(path);
    j.sync();
    await j.syncAsync();
    expect(j.syncs).toBe(0); // nothing appended: no fsync
    j.append({ k: 'stop', t: 1, reason: 'a' });
    j.sync();
    j.sync();
    expect(j.syncs).toBe(1);
    j.appendBar(0, 5, 1, 1, 1, 1, 1, undefined, false);
    await j.syncAsync();
    await j.syncAsync();
    expect(j.syncs).toBe(2);
    j.hold();
    j.append({ k: 'stop', t: 2, reason: 'held' });
    expect(readJournal(path).records).toHaveLength(2);
    await j.syncAsync(); // releases the held record, then fsyncs it
    expect(j.syncs).toBe(3);
    expect(readJournal(path).records.map((r) => r.k)).toEqual(['stop', 'bar', 'stop']);
    j.appendDurable({ k: 'stop', t: 3, reason: 'durable' });
    expect(j.syncs).toBe(4);
    j.hold();
    j.release(); // nothing held: nothing written, nothing to fsync
    j.sync();
    expect(j.syncs).toBe(4);
    j.close();
    expect(j.syncs).toBe(4); // closing a clean journal: no fsync
    expect(thrown(() => j.append({ k: 'stop', t: 5, reason: 'after close' }))).toMatchObject({ code: 'journal_write_failed', message: expect.stringMatching(/EBADF/) }); // the descriptor is closed
  });

  it('names the file and what was written when it cannot open, append, release or fsync: journal_write_failed', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const bad = join(file, 'journal.jsonl'); // its folder is a file
    expect(thrown(() => new Journal(bad))).toMatchObject({ code: 'journal_write_failed', message: expect.stringMatching(new RegExp(`^cannot open the trading journal ${bad}: `)), context: { path: bad } });
    expect((thrown(() => new Journal(bad)) as Error).cause).toMatchObject({ code: 'EEXIST' }); // mkdir of its folder: a file is there
    const path = join(dir, 'journal.jsonl');
    const j = new Journal(path);
    j.append({ k: 'stop', t: 1, reason: 'a' });
    closeSync((j as unknown as { fd: number }).fd); // the descriptor gone underneath the journal
    const failed = (what: () => unknown, record: string) => {
      const e = thrown(what);
      expect(e).toMatchObject({ code: 'journal_write_failed', message: expect.stringMatching(new RegExp(`^cannot append to the trading journal ${path}: EBADF`)), context: { path, record } });
      expect((e as Error).cause).toMatchObject({ code: 'EBADF' });
    };
    failed(() => j.append({ k: 'submit', t: 2, id: 'a_b', i: 0, side: 'buy', type: 'market', q: 1, tif: 'GTC' }), 'submit');
    failed(() => j.appendBar(0, 1, 1, 1, 1, 1, 1, undefined, false), 'bar');
    j.hold();
    j.append({ k: 'stop', t: 3, reason: 'held' });
    failed(() => j.release(), 'held records');
    // Dirty (the first record): both fsyncs fail, typed and naming the file.
    const syncError = thrown(() => j.sync());
    expect(syncError).toMatchObject({ code: 'journal_write_failed', message: expect.stringMatching(new RegExp(`^cannot fsync the trading journal ${path}: EBADF`)), context: { path } });
    expect((syncError as Error).cause).toMatchObject({ code: 'EBADF' });
    const k = new Journal(path);
    k.append({ k: 'stop', t: 4, reason: 'b' });
    closeSync((k as unknown as { fd: number }).fd);
    const asyncError = await k.syncAsync().then(() => undefined, (e: unknown) => e);
    expect(asyncError).toMatchObject({ code: 'journal_write_failed', message: expect.stringMatching(new RegExp(`^cannot fsync the trading journal ${path}: EBADF`)), context: { path } });
    expect((asyncError as Error).cause).toMatchObject({ code: 'EBADF' });
  });
});

describe('journal tail', () => {
  it('reads the records written after an earlier size, without a torn last line', () => {
    const path = join(tempDir(), 'journal.jsonl');
    const j = new Journal(path);
    j.append({ k: 'stop', t: 1, reason: 'before' });
    const at = j.size();
    j.appendBar(1, 10, 1, 2, 0.5, 1.5, 3, 0.25, false);
    j.append({ k: 'stop', t: 2, reason: 'after' });
    j.close();
    appendFileSync(path, '{"k":"bar","i":0,"ts":'); // a crash mid-write
    expect(readJournalTail(path, at)).toEqual([{ k: 'bar', i: 1, ts: 10, o: 1, h: 2, l: 0.5, c: 1.5, v: 3, s: 0.25 }, { k: 'stop', t: 2, reason: 'after' }]);
    expect(readJournalTail(path, 0)).toHaveLength(3);
    expect(readJournalTail(path, readFileSync(path).length)).toEqual([]); // nothing after the end
    // A corrupt complete line after the offset: named by file, line (counted from the offset) and offset.
    writeFileSync(path, '{"k":"stop","t":1,"reason":"x"}\n{"k":"stop","t":2,"reason":"y"}\nnot json\n');
    expect(thrown(() => readJournalTail(path, 32))).toMatchObject({ code: 'journal_corrupt', message: expect.stringMatching(new RegExp(`^trading journal ${path}: line 2 after byte 32 is not a journal record: `)), context: { path, offset: 32 } });
  });
});

describe('runner state file', () => {
  const base = { version: 1, runId: 'r1', mode: 'paper', strategy: 's', instruments: ['A'], timeframe: '4h', lastBarTs: 5, liveBars: 1, bookedExecutions: [], lastExecutionTs: 0, halted: [], savedAt: 0, kernel: {} } as unknown as LiveRunnerState;
  it('round-trips and refuses a state of another run setup by field', () => {
    const path = join(tempDir(), 'state.json');
    saveRunnerState(path, base);
    expect(loadRunnerState(path, { runId: 'r1', mode: 'paper', strategy: 's', instruments: ['A'], timeframe: '4h' })).toEqual(base);
    expect(() => loadRunnerState(path, { runId: 'r1', mode: 'demo', strategy: 's', instruments: ['A'], timeframe: '4h' })).toThrow(/belongs to mode "paper", this run has "demo"/);
    expect(() => loadRunnerState(path, { runId: 'r1', mode: 'paper', strategy: 's', instruments: ['B'], timeframe: '4h' })).toThrow(RunnerStateError);
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 20));
    expect(() => loadRunnerState(path, { runId: 'r1', mode: 'paper', strategy: 's', instruments: ['A'], timeframe: '4h' })).toThrow(/not valid JSON/);
    expect(loadRunnerState(join(tempDir(), 'none.json'), { runId: 'r1', mode: 'paper', strategy: 's', instruments: ['A'], timeframe: '4h' })).toBeUndefined();
  });

  it('names the file, the field and both values when it refuses a state; writes whole or not at all', () => {
    const dir = tempDir();
    const path = join(dir, 'state.json');
    const setup = { runId: 'r1', mode: 'paper', strategy: 's', instruments: ['A', 'B'], timeframe: '4h' };
    const load = () => thrown(() => loadRunnerState(path, setup)) as RunnerStateError;
    for (const [text, was] of [['null', 'undefined'], ['7', 'undefined'], ['{"version":2}', '2'], ['{}', 'undefined']] as const) {
      writeFileSync(path, text);
      expect(load()).toMatchObject({ code: 'runner_state_corrupt', message: `runner state ${path} must have version 1, was ${was}`, context: { path } });
    }
    writeFileSync(path, '{"version":1,');
    expect(load()).toMatchObject({ code: 'runner_state_corrupt', context: { path } });
    expect(load().message).toMatch(new RegExp(`^runner state ${path} is not valid JSON: `));
    for (const field of ['runId', 'strategy', 'timeframe'] as const) {
      saveRunnerState(path, { ...base, instruments: ['A', 'B'], [field]: 'other' } as LiveRunnerState);
      expect(load()).toMatchObject({ code: 'runner_state_mismatch', message: `runner state ${path} belongs to ${field} "other", this run has ${JSON.stringify(setup[field])}: use another run id or folder`, context: { path, field, saved: 'other', expected: setup[field] } });
    }
    saveRunnerState(path, { ...base, instruments: ['A', 'C'] } as LiveRunnerState);
    expect(load()).toMatchObject({ code: 'runner_state_mismatch', message: `runner state ${path} trades A, C, this run A, B`, context: { path, field: 'instruments' } });
    // A folder that does not exist: the write fails by code, naming the file.
    const nowhere = join(dir, 'missing', 'state.json');
    expect(thrown(() => saveRunnerState(nowhere, base))).toMatchObject({ code: 'runner_state_write_failed', context: { path: nowhere } });
  });
});
