import { type Hook, Help } from '@oclif/core';
import { ExitCode, LevitError } from '../core/errors.js';
import { closest } from '../util/suggest.js';
import { reportError } from './base.js';

/**
 * oclif's command_not_found hook: a mistyped command ("levit evl") gets "did you mean", exit 2.
 * A real command followed by words it does not take ("levit zoo extra") is that command with an
 * unexpected argument, which its own parser reports, as for any command. "levit help X" is X's help.
 */
const hook: Hook<'command_not_found'> = async function ({ id, argv, config }) {
  // With spaces between topics, oclif joins the words before the first flag into the id: "evl:levit_128s:val".
  // It does so only after a command that takes no arguments, which is why "zoo extra" arrives here and "info levit_128s extra" does not.
  const parts = id.split(':');
  for (let n = parts.length - 1; n > 0; n--) {
    const command = parts.slice(0, n).join(':');
    if (config.findCommand(command)) return config.runCommand(command, [...parts.slice(n), ...(argv ?? [])]);
  }
  let [typed, ...words] = parts;
  // "levit help predict", as git and npm take it: predict's help; a mistyped one gets "did you mean" below.
  if (typed === 'help') {
    const target = [...words, ...(argv ?? [])].find((w) => !w.startsWith('-'));
    if (!target || config.findCommand(target)) return new Help(config).showHelp(target ? [target] : []);
    [typed, ...words] = [target];
  }
  const rest = [...words, ...(argv ?? [])];
  const guess = closest(typed, config.commandIDs);
  const retry = guess ? `: did you mean levit ${[guess, ...rest].join(' ')}?` : '';
  reportError(new LevitError(`unknown command ${typed}${retry}`, ExitCode.usage, 'levit --help lists the commands.'), rest.includes('--json'));
};

export default hook;
