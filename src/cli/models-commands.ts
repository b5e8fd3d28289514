import { Command, Option } from 'commander';
import { AppError } from '../core/app-error.js';
import { formatUtc } from '../core/time.js';
import {
  gateVerdict,
  LINEAGE_TAGS,
  MlflowClient,
  mlflowClientConfigFromEnv,
  promoteVersion,
  PROMOTION_TAGS,
  REGISTRY_DEFAULTS,
  REGISTRY_ENV,
  type ModelVersion,
  type RegisteredModel,
} from '../registry/index.js';
import { formatTable, type CliIo } from './output.js';

/** A CLI input the models commands refuse (exit 2). */
class ModelsCliError extends AppError<'missing_tracking_uri' | 'invalid_argument'> {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function trackingUriOption(): Option {
  return new Option('--tracking-uri <url>', 'MLflow tracking server URL').env(REGISTRY_ENV.trackingUri);
}

/** Creates the MLflow client for a command (the CLI is the composition root: wall clock, env token). */
export function mlflowClient(trackingUri: string | undefined): MlflowClient {
  const config = mlflowClientConfigFromEnv(process.env, trackingUri ? { trackingUri } : {});
  if (!config) {
    throw new ModelsCliError(
      'missing_tracking_uri',
      `no MLflow tracking server: pass --tracking-uri <url> or set ${REGISTRY_ENV.trackingUri} (e.g. eval "$(bash scripts/services.sh env)")`,
    );
  }
  return new MlflowClient(config, { now: () => Date.now() });
}

function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw new ModelsCliError('invalid_argument', `${what} must be letters, digits, ".", "_" or "-", was ${JSON.stringify(name)}`, { [what]: name });
  return name;
}

interface VersionRow {
  readonly model: string;
  readonly version: string;
  readonly status: string;
  readonly aliases: readonly string[];
  readonly gate: string;
  readonly forced: boolean;
  readonly gitCommit: string;
  readonly dataRange: string;
  readonly runId: string;
  readonly created: string;
  readonly tags: Readonly<Record<string, string>>;
}

function versionRow(model: RegisteredModel, v: ModelVersion): VersionRow {
  const aliases = Object.entries(model.aliases)
    .filter(([, version]) => version === v.version)
    .map(([alias]) => alias)
    .sort();
  const t = v.tags;
  return {
    model: model.name,
    version: v.version,
    status: t[LINEAGE_TAGS.status] === 'failed' ? 'FAILED(publish)' : v.status,
    aliases,
    gate: gateVerdict(t),
    forced: t[PROMOTION_TAGS.forced] === 'true',
    gitCommit: t[LINEAGE_TAGS.gitCommit] ?? '',
    dataRange: t[LINEAGE_TAGS.dataFrom] && t[LINEAGE_TAGS.dataTo] ? `${t[LINEAGE_TAGS.dataFrom]}..${t[LINEAGE_TAGS.dataTo]}` : '',
    runId: v.run_id ?? '',
    created: v.creation_timestamp !== undefined ? formatUtc(v.creation_timestamp) : '',
    tags: t,
  };
}

async function listVersions(client: MlflowClient, name: string | undefined): Promise<VersionRow[]> {
  const models = name ? [await client.getRegisteredModel(name)] : await client.searchAllRegisteredModels();
  const rows: VersionRow[] = [];
  for (const model of models.sort((a, b) => a.name.localeCompare(b.name))) {
    const versions = await client.searchAllModelVersions({ filter: `name = '${model.name}'` });
    versions.sort((a, b) => Number(b.version) - Number(a.version));
    rows.push(...versions.map((v) => versionRow(model, v)));
  }
  return rows;
}

/** Builds `tm models` (`ls`). `setExit` records the process exit code. */
export function modelsCommand(io: CliIo, _setExit: (code: number) => void): Command {
  const models = new Command('models')
    .description('model registry (MLflow): list registered models, versions, aliases and gate verdicts')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  models
    .command('ls')
    .description('list versions with their aliases, gate verdict (tag gate.passed), promotion override, lineage (git commit, data range) and run')
    .option('--name <model>', 'only this registered model')
    .addOption(trackingUriOption())
    .option('--json', 'print the rows (with every version tag) as JSON')
    .action(async (opts: { name?: string; trackingUri?: string; json?: boolean }) => {
      const name = opts.name === undefined ? undefined : checkName(opts.name, '--name');
      const rows = await listVersions(mlflowClient(opts.trackingUri), name);
      if (opts.json) return io.out(JSON.stringify(rows, null, 2));
      io.out(
        formatTable(
          rows.map((r) => ({
            model: r.model,
            version: r.version,
            status: r.status,
            aliases: r.aliases.map((a) => `@${a}`).join(','),
            gate: r.gate + (r.forced ? ' (forced)' : ''),
            git_commit: r.gitCommit.slice(0, 12),
            data: r.dataRange,
            run_id: r.runId,
            created: r.created,
          })),
        ),
      );
    });
  return models;
}

/** Builds `tm promote`. `setExit` records the process exit code. */
export function promoteCommand(io: CliIo, _setExit: (code: number) => void): Command {
  return new Command('promote')
    .description('point a registered model alias (e.g. @production) at a version; refuses versions whose gates failed unless --force --reason')
    .argument('<name>', 'registered model name')
    .requiredOption('--version <n>', 'model version to promote')
    .option('--alias <alias>', 'alias to move', REGISTRY_DEFAULTS.alias)
    .option('--force', 'promote although the gates failed or are unknown (requires --reason; recorded as tag promotion.forced=true)')
    .option('--reason <text>', 'why (recorded as tag promotion.reason; required with --force)')
    .addOption(trackingUriOption())
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .action(async (name: string, opts: { version: string; alias: string; force?: boolean; reason?: string; trackingUri?: string; json?: boolean }) => {
      checkName(name, '<name>');
      if (!/^[1-9][0-9]*$/.test(opts.version)) throw new ModelsCliError('invalid_argument', `--version must be a positive integer, was ${JSON.stringify(opts.version)}`);
      if (!/^[A-Za-z0-9_-]+$/.test(opts.alias)) throw new ModelsCliError('invalid_argument', `--alias must be letters, digits, "_" or "-", was ${JSON.stringify(opts.alias)}`);
      const result = await promoteVersion(mlflowClient(opts.trackingUri), {
        name,
        version: opts.version,
        alias: opts.alias,
        ...(opts.force ? { force: true } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        ...(process.env['USER'] ? { actor: process.env['USER'] } : {}),
        at: Date.now(),
      });
      if (opts.json) return io.out(JSON.stringify(result, null, 2));
      const was = result.previousVersion === undefined ? 'was unset' : result.previousVersion === result.version ? 'unchanged' : `was version ${result.previousVersion}`;
      io.out(`promoted ${result.name} version ${result.version} to @${result.alias} (${was}); gates ${result.gate}`);
      if (result.forced) io.out(`FORCED past ${result.gate} gates: ${opts.reason}`);
    });
}
