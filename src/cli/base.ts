import { Command } from '@oclif/core';
import { LevitError } from '../core/errors.js';

/**
 * What every levit command shares: --json (the value run() returns is printed as JSON), and
 * errors a user can act on printed as message + hint with the error's own exit code.
 */
export abstract class LevitCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (!(err instanceof LevitError)) return super.catch(err);
    process.exitCode = err.exitCode;
    if (this.jsonEnabled()) {
      this.logJson({ error: { name: err.name, message: err.message, hint: err.hint, exitCode: err.exitCode } });
    } else {
      this.logToStderr(`Error: ${err.message}${err.hint ? `\nHint: ${err.hint}` : ''}`);
    }
    return undefined;
  }
}
