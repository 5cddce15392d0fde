/**
 * Mocha root-hook plugin: `mocha --require warren-mq/mocha` starts one broker before the first test,
 * sets `process.env.AMQP_URL` to its URL, exposes the handle as `this.warren` in every hook and test
 * (root context properties are inherited by every suite's context), and closes it after the last test, so
 * mocha exits on its own. In `--parallel` mode each test file runs in a worker with its own broker.
 *
 * The broker state lives on mocha's root context, not in this module: nothing here outlives a run.
 */
import { startBroker, type WarrenBroker } from './embedded.js';

declare module 'mocha' {
  interface Context {
    /** The broker `warren-mq/mocha` started for this run. */
    warren: WarrenBroker;
  }
}

/** The `this` of root hooks: mocha's root Context, declared structurally so no mocha types are needed at run time. */
interface RootContext {
  warren?: WarrenBroker;
}

export const mochaHooks = {
  async beforeAll(this: RootContext): Promise<void> {
    // AMQP_URL exists from the first hook on: read it in hooks and tests, not at module top level.
    const broker = await startBroker();
    this.warren = broker;
    process.env.AMQP_URL = broker.url;
  },
  async afterAll(this: RootContext): Promise<void> {
    const broker = this.warren;
    if (broker === undefined) return;
    if (process.env.AMQP_URL === broker.url) delete process.env.AMQP_URL;
    await broker.close();
  },
};
