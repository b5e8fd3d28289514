import { Command, CommanderError } from 'commander';
import { AppError } from '../core/app-error.js';
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
 * Runs the CLI with `argv` (as in `process.argv`) and returns the exit code:
 * 0 success, 1 a check found problems, 2 bad input or an expected failure (message on stderr), 3 an unexpected error.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exit = 0;
  const program = buildProgram(io, (code) => (exit = code));
  try {
    await program.parseAsync([...argv]);
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof AppError) {
      io.err(`tm: ${e.message}`);
      return 2;
    }
    io.err(`tm: unexpected error: ${(e as Error).stack ?? String(e)}`);
    return 3;
  }
}
