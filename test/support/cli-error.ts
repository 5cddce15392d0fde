import { expect } from 'chai';
import { CliError } from '../../src/cli/args.js';

/** The message of the CliError that fn throws (fails the test when it throws nothing or something else). */
export function cliError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(CliError);
    return (err as Error).message;
  }
  throw new Error('expected a CliError');
}
