import { Command } from '@oclif/core';
import { ExitCode, LevitError } from '../core/errors.js';
import { closest } from '../util/suggest.js';

/** An error oclif raised while parsing the command line (unknown flag, missing argument, bad option). */
type ParseError = Error & { oclif?: { exit?: number }; flags?: string[] };

function isParseError(err: Error): err is ParseError {
  return 'parse' in err || typeof (err as ParseError).oclif?.exit === 'number' || /^Parsing --/.test(err.message);
}

/**
 * oclif's own parse errors as usage errors in levit's shape: the message alone (no parser
 * state), exit 2, and for a mistyped flag the closest real one.
 */
export function usageErrorOf(err: ParseError, command: string, flagNames: readonly string[]): LevitError {
  const message = err.message
    .replace(/\s*See more help with --help\s*$/, '')
    .replace(/^Parsing (--[\w-]+)\s*\n\s*/, '$1: ')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  const typed = err.flags ?? [...err.message.matchAll(/(?:Unexpected flag|Nonexistent flags?:)\s+(-{1,2}[\w-]+)/g)].map((m) => m[1]);
  const guesses = typed.map((f) => closest(f.replace(/^-+/, ''), flagNames)).filter((g): g is string => !!g);
  const hint = `${guesses.length ? `Did you mean ${guesses.map((g) => `--${g}`).join(', ')}? ` : ''}levit ${command} --help lists the arguments and flags.`;
  return new LevitError(message, ExitCode.usage, hint);
}

/**
 * What every levit command shares: --json (the value run() returns is printed as JSON), and
 * errors a user can act on printed as message + hint with the error's own exit code.
 */
export abstract class LevitCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const levit = err instanceof LevitError ? err : isParseError(err) ? usageErrorOf(err, this.id ?? '', Object.keys(this.ctor.flags ?? {})) : null;
    if (!levit) return super.catch(err);
    process.exitCode = levit.exitCode;
    if (this.jsonEnabled() || this.argv.includes('--json')) {
      this.logJson({ error: { name: levit.name, message: levit.message, hint: levit.hint, exitCode: levit.exitCode } });
    } else {
      this.logToStderr(`Error: ${levit.message}${levit.hint ? `\nHint: ${levit.hint}` : ''}`);
    }
    return undefined;
  }
}
