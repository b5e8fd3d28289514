import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { TM_VERSION } from './version.js';

it('TM_VERSION equals package.json version', () => {
  expect(TM_VERSION).toBe((JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string }).version);
});
