'use strict';
// Mocha's spec reporter plus one closing line, `N passed, N failed`, that CI reads to see that tests ran.
const Mocha = require('mocha');

class WarrenReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`);
    });
  }
}

module.exports = WarrenReporter;
