import { Command, Flags } from '@oclif/core';
import { ExitCode, LevitError } from '../core/errors.js';
import { closest } from '../util/suggest.js';

/** An error oclif raised while parsing the command line (unknown flag, missing argument, bad option). */
type ParseError = Error & { oclif?: { exit?: number }; flags?: string[] };

function isParseError(err: Error): boolean {
  const exit = (err as ParseError).oclif?.exit;
  // Exit 0 is oclif's way out after printing help (-h): not an error.
  return exit !== 0 && ('parse' in err || typeof exit === 'number' || /^Parsing --/.test(err.message));
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
    // A flag's own parser (a LevitError) already names the flag.
    .replace(/^(--[\w-]+): \1:/, '$1:')
    .trim();
  const typed = err.flags ?? [...err.message.matchAll(/(?:Unexpected flag|Nonexistent flags?:)\s+(-{1,2}[\w-]+)/g)].map((m) => m[1]);
  const guesses = typed.map((f) => closest(f.replace(/^-+/, ''), flagNames)).filter((g): g is string => !!g);
  const hint =
    (err instanceof LevitError ? err.hint : undefined) ??
    `${guesses.length ? `Did you mean ${guesses.map((g) => `--${g}`).join(', ')}? ` : ''}levit ${command} --help lists the arguments and flags.`;
  return new LevitError(message, ExitCode.usage, hint);
}

/**
 * What every levit command shares: --json (the value run() returns is printed as JSON), and
 * errors a user can act on printed as message + hint with the error's own exit code.
 */
export abstract class LevitCommand extends Command {
  static override enableJsonFlag = true;
  // oclif answers --help before parsing; -h is the short form users try first.
  static override baseFlags = { help: Flags.help({ char: 'h', description: 'show this help' }) };

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const flagNames = [...Object.keys({ ...this.ctor.baseFlags, ...this.ctor.flags }), ...(this.ctor.enableJsonFlag ? ['json'] : [])];
    // oclif prefixes an error thrown by a flag's parser with "Parsing --flag", even a LevitError: those are parse errors too.
    const levit = isParseError(err) ? usageErrorOf(err, this.id ?? '', flagNames) : err instanceof LevitError ? err : null;
    if (!levit) return super.catch(err);
    reportError(levit, this.jsonEnabled() || this.argv.includes('--json'));
    return undefined;
  }
}

/**
 * Prints an error a user can act on and sets the exit code: "Error: ...\nHint: ..." on stderr,
 * or with --json the documented shape {"error": {"name", "message", "hint", "exitCode", ...details}}
 * on stdout, where the error's details stand in for what the text output prints before it.
 */
export function reportError(levit: LevitError, json: boolean): void {
  process.exitCode = levit.exitCode;
  if (json) {
    const error = { name: levit.name, message: levit.message, hint: levit.jsonHint ?? levit.hint, exitCode: levit.exitCode };
    process.stdout.write(`${JSON.stringify({ error: { ...error, ...levit.details, ...error } }, null, 2)}\n`);
  } else {
    process.stderr.write(`Error: ${levit.message}${levit.hint ? `\nHint: ${levit.hint}` : ''}\n`);
  }
}
