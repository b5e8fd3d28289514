import { Command, CommanderError } from 'commander';
import { AppError } from '../core/app-error.js';
import { redactError, redactText, secretsFromEnv } from '../core/redact.js';
import { backtestCommand } from './backtest-command.js';
import { dataCommand } from './data-commands.js';
import { modelsCommand, promoteCommand } from './models-commands.js';
import { processIo, type CliIo } from './output.js';
import { trainCommand } from './train-command.js';

/** Builds the `tm` program. Each subcommand group lives in its own `*-commands.ts`. */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('tm')
    .description('trade-matrix: backtest-and-live research workbench for crypto algorithmic trading')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  program.addCommand(dataCommand(io, setExit));
  program.addCommand(modelsCommand(io, setExit));
  program.addCommand(promoteCommand(io, setExit));
  program.enablePositionalOptions(); // program options (-V/--version) only before a subcommand: `tm promote <name> --version N`
  program.addCommand(backtestCommand(io, setExit));
  program.addCommand(trainCommand(io, setExit));
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
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
  const program = buildProgram(io, (code) => (exit = code));
  try {
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
