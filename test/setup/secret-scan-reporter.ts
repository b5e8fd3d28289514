/**
 * A vitest reporter that scans every console line the tests print for the test venue's API key and secret (ccxt and
 * axios errors carry request headers: a line that leaks them fails the run). Files are scanned by the global teardown.
 */
import type { Reporter } from 'vitest/reporters';
import { TEST_API_KEY, TEST_API_SECRET } from '../support/bybit-v5-venue.js';
import { secretsIn } from '../support/secret-scan.js';

export default class SecretScanReporter implements Reporter {
  private lines = 0;
  private readonly hits: string[] = [];
  onUserConsoleLog(log: { content: string; taskId?: string }): void {
    this.lines++;
    for (const s of secretsIn(log.content, [TEST_API_KEY, TEST_API_SECRET])) this.hits.push(`${log.taskId ?? 'unknown test'}: a console line holds the ${s === TEST_API_KEY ? 'API key' : 'API secret'}`);
  }
  onTestRunEnd(): void {
    process.stdout.write(`[secret scan] ${this.lines} console lines of the tests scanned for the test API key and secret: ${this.hits.length} hits\n`);
    if (this.hits.length > 0) {
      process.stdout.write(this.hits.join('\n') + '\n');
      process.exitCode = 1;
    }
  }
}
