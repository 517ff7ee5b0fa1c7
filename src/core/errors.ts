/**
 * Errors a user can act on. Every command maps them to a message and an exit code,
 * so scripts can tell "you gave me bad input" from "something broke".
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  badInput: 3,
  notFound: 4,
  unavailable: 5,
  /** Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The keys of the --json error object that every error has; details cannot replace them. */
type ErrorKeys = 'name' | 'message' | 'hint' | 'exitCode';

export interface ErrorDetails {
  /**
   * What the text output prints before the error (the files that could not be read, a partial
   * summary), for --json, which prints nothing else: added to the JSON error object beside name,
   * message, hint and exitCode.
   */
  details?: Record<string, unknown> & { [K in ErrorKeys]?: never };
  /** The hint under --json, where `hint` would point to text printed above the error (there is none): say where in `details` to look. */
  jsonHint?: string;
}

export class LevitError extends Error {
  readonly details?: ErrorDetails['details'];
  readonly jsonHint?: string;

  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
    /** What the user can do about it, printed under the message. */
    readonly hint?: string,
    more: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'LevitError';
    this.details = more.details;
    this.jsonHint = more.jsonHint;
  }
}

/** A file that cannot be read as what it claims to be: truncated, corrupt or crafted. */
export class CorruptFileError extends LevitError {
  constructor(file: string, detail: string, hint?: string) {
    super(`${file}: ${detail}`, ExitCode.badInput, hint);
    this.name = 'CorruptFileError';
  }
}

export type MismatchKind = 'missing' | 'unexpected' | 'shape' | 'dtype' | 'values';
export interface Mismatch {
  kind: MismatchKind;
  text: string;
}

const SHOWN_PER_KIND = 5;

/** A checkpoint that reads fine but does not fit the model it is loaded into. */
export class CheckpointMismatchError extends LevitError {
  readonly problems: string[];

  constructor(mismatches: readonly Mismatch[], model: string) {
    const kinds: MismatchKind[] = ['shape', 'dtype', 'values', 'missing', 'unexpected'];
    const lines = kinds.flatMap((kind) => {
      const mine = mismatches.filter((m) => m.kind === kind);
      const extra = mine.length > SHOWN_PER_KIND ? [`  ... and ${mine.length - SHOWN_PER_KIND} more ${kind === 'shape' ? 'misshapen' : kind}`] : [];
      return [...mine.slice(0, SHOWN_PER_KIND).map((m) => `  - ${m.text}`), ...extra];
    });
    super(
      `checkpoint does not fit ${model}:\n${lines.join('\n')}`,
      ExitCode.badInput,
      'Check that the checkpoint is for this model (levit zoo lists the models and their checkpoints).',
    );
    this.name = 'CheckpointMismatchError';
    this.problems = mismatches.map((m) => m.text);
  }
}
