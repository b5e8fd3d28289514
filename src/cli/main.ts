import { Command, CommanderError } from 'commander';
import { AppError } from '../core/app-error.js';
import { redactError, redactText, secretsFromEnv } from '../core/redact.js';
import { processIo, type CliIo } from './output.js';

/** Builds one top-level command (with its subcommands). `setExit` records the process exit code. */
export type CommandBuilder = (io: CliIo, setExit: (code: number) => void) => Command;

/**
 * One top-level command of `tm`. Its module is imported only when the command runs (or its help is asked for), so
 * `tm --help` loads commander and this file only, and `tm data ls` never loads ccxt, onnxruntime or tfjs.
 */
export interface CommandEntry {
  readonly name: string;
  /** One line for `tm --help`; the loaded command carries the same text (checked by main.test.ts). */
  readonly summary: string;
  readonly load: () => Promise<CommandBuilder>;
}

/** Every top-level command, in `tm --help` order. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'data', summary: 'market-data store: import, fetch, check, list and resample bars', load: async () => (await import('./data-commands.js')).dataCommand },
  { name: 'backtest', summary: 'run an experiment file (--config) or all experiments with a baseline drift check (--all); writes summary.json and report.html (and metrics.prom with --config)', load: async () => (await import('./backtest-command.js')).backtestCommand },
  { name: 'report', summary: 're-render the HTML report of a result folder or an experiment and print its path (--open opens it)', load: async () => (await import('./report-command.js')).reportCommand },
  { name: 'experiments', summary: 'experiment configs: list them with their last run and baseline drift', load: async () => (await import('./experiments-command.js')).experimentsCommand },
  { name: 'strategies', summary: 'strategy registry: list strategies with their parameters, defaults and docs', load: async () => (await import('./strategies-command.js')).strategiesCommand },
  { name: 'train', summary: 'purged walk-forward validation (Boruta per fold; pooled, per-symbol, transfer and RF models), final model training, ONNX + card, OOS predictions to the store, MLflow logging', load: async () => (await import('./train-command.js')).trainCommand },
  { name: 'train-rl', summary: 'train the SAC position sizer (curriculum, purged walk-forward folds) over an experiment; OOS table SAC vs PURE_KELLY vs flat with Deflated Sharpe; actor ONNX + card per symbol; optional MLflow registration', load: async () => (await import('./train-rl-command.js')).trainRlCommand },
  { name: 'research', summary: 'research tables: the CPCV model table (Sharpe distribution, PBO, DSR from the ledger, meta-labelling, ridge baseline, XGBoost learner gap)', load: async () => (await import('./research-command.js')).researchCommand },
  { name: 'predict', summary: 'run a trained model package over a date range through the signal stage and write its predictions (tagged model + version) to the store', load: async () => (await import('./predict-command.js')).predictCommand },
  { name: 'models', summary: 'model registry (MLflow): list registered models, versions, aliases and gate verdicts', load: async () => (await import('./models-commands.js')).modelsCommand },
  { name: 'promote', summary: 'point a registered model alias (e.g. @production) at a version; refuses versions whose gates failed unless --force --reason', load: async () => (await import('./models-commands.js')).promoteCommand },
  { name: 'runs', summary: 'MLflow runs: list the runs of the tracking server (when configured)', load: async () => (await import('./runs-command.js')).runsCommand },
  { name: 'live', summary: 'run an experiment live (--paper | --demo | --testnet | --mainnet): crash-only runner with journal and reconciliation; subcommands status, stop, kill, replay', load: async () => (await import('./live-command.js')).liveCommand },
  { name: 'replay', summary: 'rerun a live run’s journaled bars through the backtester and report the first divergence in decisions or orders', load: async () => (await import('./live-command.js')).replayCommand },
  { name: 'sweep', summary: 'parameter sweep over an experiment: run it locally (--workers N) or as a BullMQ flow on Redis (--queue); one result row per trial, best trial, Deflated Sharpe, PBO; tm sweep status <id>, ls, remove <id>', load: async () => (await import('./sweep-command.js')).sweepCommand },
  { name: 'worker', summary: 'BullMQ worker: run queued sweep trials on this machine (tm worker --queue redis://...)', load: async () => (await import('./sweep-command.js')).workerCommand },
  { name: 'doctor', summary: 'check Node/npm/Python/Go, services, ports, the store and TM_SHARED_DATA; print what is missing and the command that fixes it', load: async () => (await import('./doctor-command.js')).doctorCommand },
];

/** The command `argv` names (first argument that is not an option; `tm help <cmd>` names `<cmd>`), if any. */
export function invokedCommand(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  const first = args.findIndex((a) => !a.startsWith('-'));
  if (first < 0) return undefined;
  if (args[first] === 'help') return args.slice(first + 1).find((a) => !a.startsWith('-'));
  return args[first];
}

/** Sends the output of `command` and all its subcommands to `io`, and turns commander's exits into exceptions. */
function routeOutput(command: Command, io: CliIo): Command {
  command.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const sub of command.commands) routeOutput(sub, io);
  return command;
}

/**
 * Builds the `tm` program for `argv`: the command `argv` names is loaded in full, every other one is a placeholder
 * carrying its name and summary (enough for `tm --help`).
 */
export async function buildProgram(io: CliIo, setExit: (code: number) => void, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('tm')
    .description('trade-matrix: backtest-and-live research workbench for crypto algorithmic trading')
    .version('0.1.0')
    .showHelpAfterError();
  routeOutput(program, io);
  const wanted = invokedCommand(argv);
  for (const entry of COMMANDS) {
    const command = entry.name === wanted ? (await entry.load())(io, setExit) : new Command(entry.name).description(entry.summary);
    program.addCommand(routeOutput(command, io));
  }
  program.enablePositionalOptions(); // program options (-V/--version) only before a subcommand: `tm promote <name> --version N`
  return program;
}

/**
 * `io` with every line passed through the redactor: the values of secret-looking environment variables
 * (`MLFLOW_TRACKING_TOKEN`, `AWS_SECRET_ACCESS_KEY`, ...) and every token, key, signature or URI credential
 * (see core/redact.ts) never reach stdout or stderr, whatever a command or a remote peer put into a message.
 */
export function redactingIo(io: CliIo, secrets: readonly string[]): CliIo {
  return { out: (t) => io.out(redactText(t, secrets)), err: (t) => io.err(redactText(t, secrets)) };
}

/**
 * Runs the CLI with `argv` (as in `process.argv`) and returns the exit code:
 * 0 success, 1 a check found problems, 2 bad input or an expected failure (message on stderr), 3 an unexpected error.
 * Everything printed is redacted (see {@link redactingIo}).
 */
export async function main(argv: readonly string[], rawIo: CliIo = processIo, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let exit = 0;
  const secrets = secretsFromEnv(env);
  const io = redactingIo(rawIo, secrets);
  try {
    const program = await buildProgram(io, (code) => (exit = code), argv);
    await program.parseAsync([...argv]);
    return exit;
  } catch (caught) {
    if (caught instanceof CommanderError) return caught.exitCode === 0 ? 0 : 2;
    const e = redactError(caught, secrets);
    if (e instanceof AppError) {
      io.err(`tm: ${e.message}`);
      return 2;
    }
    io.err(`tm: unexpected error: ${e.stack ?? String(e)}`);
    return 3;
  }
}
