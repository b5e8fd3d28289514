import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { formatTable, type CliIo } from './output.js';
import { loadStrategyRegistryModule } from './strategy-registry.js';

/** One strategy parameter: JSON-schema type, default, bounds and the doc comment of its schema field. */
export interface StrategyParameter {
  readonly name: string;
  readonly type: string;
  readonly default: unknown;
  readonly constraints: string;
  readonly doc: string;
}

export interface StrategyDescription {
  readonly name: string;
  /** First sentence of the factory's doc comment. */
  readonly doc: string;
  /** Null when the registry exports no `<PascalName>Params` zod schema for it. */
  readonly parameters: readonly StrategyParameter[] | null;
}

const pascal = (name: string) => name.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Text of the doc comment (`/** ... *\/`) right before the line matching `anchor`, joined into one line. */
function docBefore(source: string, anchor: RegExp): string {
  const m = anchor.exec(source);
  if (!m) return '';
  const before = source.slice(0, m.index).trimEnd();
  if (!before.endsWith('*/')) return '';
  const start = before.lastIndexOf('/**');
  return before
    .slice(start + 3, -2)
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('@'))
    .join(' ');
}

function constraintsOf(p: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof p['minimum'] === 'number') parts.push(`>= ${p['minimum']}`);
  if (typeof p['exclusiveMinimum'] === 'number') parts.push(`> ${p['exclusiveMinimum']}`);
  if (typeof p['maximum'] === 'number' && p['maximum'] !== Number.MAX_SAFE_INTEGER) parts.push(`<= ${p['maximum']}`);
  if (typeof p['exclusiveMaximum'] === 'number') parts.push(`< ${p['exclusiveMaximum']}`);
  if (Array.isArray(p['enum'])) parts.push(`one of ${p['enum'].join(', ')}`);
  if (typeof p['minLength'] === 'number' && p['minLength'] > 0) parts.push(`length >= ${p['minLength']}`);
  return parts.join(', ');
}

/**
 * Describes every strategy of the registry: its parameters (type, default, bounds from the `<PascalName>Params` zod
 * schema the registry exports; docs from the doc comments of that schema's fields in the strategy's module, which sits
 * beside the registry as `<name>.ts`/`.js`) and the first sentence of its factory's doc comment.
 */
export async function describeStrategies(): Promise<StrategyDescription[]> {
  const registry = await loadStrategyRegistryModule();
  const ext = extname(registry.url.pathname);
  const out: StrategyDescription[] = [];
  for (const name of Object.keys(registry.strategies).sort()) {
    let source = '';
    try {
      source = await readFile(fileURLToPath(new URL(`./${name}${ext}`, registry.url)), 'utf8');
    } catch {
      source = '';
    }
    const schema = registry.exports[`${pascal(name)}Params`];
    const factoryDoc = docBefore(source, new RegExp(`^export (?:async )?function ${camel(name)}\\b`, 'm'));
    const doc = /^(.*?\.)(\s|$)/.exec(factoryDoc)?.[1] ?? factoryDoc;
    if (!(schema instanceof z.ZodType)) {
      out.push({ name, doc, parameters: null });
      continue;
    }
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Record<string, unknown>> };
    const body = source.slice(Math.max(0, source.search(new RegExp(`export const ${pascal(name)}Params\\b`))));
    const parameters = Object.entries(json.properties ?? {}).map(([key, p]) => ({
      name: key,
      type: Array.isArray(p['enum']) ? 'enum' : String(p['type'] ?? 'any'),
      default: p['default'],
      constraints: constraintsOf(p),
      doc: docBefore(body, new RegExp(`^\\s*${key}:`, 'm')),
    }));
    out.push({ name, doc, parameters });
  }
  return out;
}

/**
 * Builds `tm strategies` (`ls`).
 * @example tm strategies ls --json
 */
export function strategiesCommand(io: CliIo, _setExit: (code: number) => void): Command {
  const strategies = new Command('strategies').description('strategy registry: list strategies with their parameters, defaults and docs');
  strategies
    .command('ls')
    .description('list the strategies experiments can name ("strategy": "<name>") with each parameter: type, default, bounds and doc')
    .option('--json', 'print the descriptions as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await describeStrategies();
      if (opts.json) return io.out(JSON.stringify(list, null, 2));
      for (const s of list) {
        io.out(`${s.name}: ${s.doc}`);
        if (s.parameters === null) io.out('  (no parameter schema exported)');
        else
          io.out(
            formatTable(s.parameters.map((p) => ({ parameter: `  ${p.name}`, type: p.type, default: p.default === undefined ? '(required)' : JSON.stringify(p.default), constraints: p.constraints, doc: p.doc }))),
          );
        io.out('');
      }
      io.out(`${list.length} strategies; set parameters in an experiment's "params" or with tm backtest --config <file> --set params.<name>=<value>`);
    });
  return strategies;
}
