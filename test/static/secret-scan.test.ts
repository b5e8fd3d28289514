import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_API_KEY, TEST_API_SECRET } from '../support/bybit-v5-venue.js';
import { scanTree, secretsIn } from '../support/secret-scan.js';
import { tempDir } from '../support/shared-data.js';

describe('secret scan of what the suite writes', () => {
  it('finds the key or secret in any nested file, and nothing in clean files', () => {
    const dir = tempDir('tm-scan-');
    try {
      plantAndScan(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true }); // the planted secret must not fail the suite's own scan
    }
  });
});

function plantAndScan(dir: string): void {
    mkdirSync(join(dir, 'run', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'run', 'journal.jsonl'), '{"k":"start"}\n');
    expect(scanTree(dir, [TEST_API_KEY, TEST_API_SECRET])).toMatchObject({ hits: [], files: 1 });
    writeFileSync(join(dir, 'run', 'deep', 'error.log'), `request failed: X-BAPI-API-KEY: ${TEST_API_KEY}`);
    expect(scanTree(dir, [TEST_API_KEY, TEST_API_SECRET]).hits).toEqual([{ where: join(dir, 'run', 'deep', 'error.log'), secret: TEST_API_KEY }]);
    expect(secretsIn(`sign=${TEST_API_SECRET}`, [TEST_API_KEY, TEST_API_SECRET])).toEqual([TEST_API_SECRET]);
}
