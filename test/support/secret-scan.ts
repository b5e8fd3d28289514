/**
 * Scans what a test run wrote (files under a folder, console lines) for secrets: the test venue's API key and secret
 * must never reach a log, error, journal or report (redaction at the adapter boundary). Used by the suite's global
 * teardown over the run's private TMPDIR and by test/setup/secret-scan-reporter.ts over every console line.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretHit {
  readonly where: string;
  readonly secret: string;
}

/** Every file under `dir` (symlinks not followed) that contains one of `secrets`, and how much was scanned. */
export function scanTree(dir: string, secrets: readonly string[]): { hits: SecretHit[]; files: number; bytes: number } {
  const hits: SecretHit[] = [];
  let files = 0, bytes = 0;
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(d, name);
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        const text = readFileSync(path).toString('latin1');
        files++;
        bytes += st.size;
        for (const s of secrets) if (text.includes(s)) hits.push({ where: path, secret: s });
      }
    }
  };
  walk(dir);
  return { hits, files, bytes };
}

/** The secrets of `text` (one console line, one error message). */
export function secretsIn(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}
