import type { Hook } from '@oclif/core';
import { ExitCode, LevitError } from '../core/errors.js';
import { closest } from '../util/suggest.js';
import { reportError } from './base.js';

/** oclif's command_not_found hook: a mistyped command ("levit evl") gets "did you mean", exit 2. */
const hook: Hook<'command_not_found'> = async function ({ id, argv, config }) {
  // With spaces between topics, oclif joins the words before the first flag into the id: "evl:levit_128s:val".
  const [typed, ...words] = id.split(':');
  const rest = [...words, ...(argv ?? [])];
  const guess = closest(typed, config.commandIDs);
  const retry = guess ? `: did you mean levit ${[guess, ...rest].join(' ')}?` : '';
  reportError(new LevitError(`unknown command ${typed}${retry}`, ExitCode.usage, 'levit --help lists the commands.'), rest.includes('--json'));
};

export default hook;
