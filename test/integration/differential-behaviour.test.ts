// Differential behaviour: every scenario in test/support/scenarios.ts runs against RabbitMQ 3.10
// (RABBITMQ_URL) and/or Warren (WARREN_DIFF_URL), and what the client observed must match.
//   neither                    an in-process Warren must match the recording (what `make test` runs)
//   WARREN_DIFF_URL            that Warren must match the recording
//   RABBITMQ_URL               RabbitMQ must still match the recording, and Warren what RabbitMQ does now
// Findings, in prose: docs/rabbitmq-behaviour.md.
import { expect } from 'chai';
import { RECORDED, SCENARIOS, type Json, type Outcome } from '../support/scenarios.js';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { readFileSync } from 'node:fs';

/** Scenarios where Warren differs from RabbitMQ on purpose, each with its reason and Warren's outcome. */
const DIFFERENCES = JSON.parse(readFileSync(new URL('../../../test/support/warren-differences.json', import.meta.url), 'utf8')) as
  Record<string, { reason: string; outcome: Outcome }>;

const rabbitUrl = process.env['RABBITMQ_URL'];
let warrenUrl = process.env['WARREN_DIFF_URL'];

function mentions(v: Json, key: string): boolean {
  if (Array.isArray(v)) return v.some((x) => mentions(x, key));
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => k === key || mentions(x, key));
  return false;
}

describe('differential scenario recording', function () {
  it('names every scenario once', function () {
    const names = SCENARIOS.map((s) => s.name);
    expect(new Set(names).size).to.equal(names.length);
  });

  it('holds a RabbitMQ outcome for every scenario and nothing else', function () {
    expect([...RECORDED.keys()].sort()).to.deep.equal(SCENARIOS.map((s) => s.name).sort());
  });

  it('recorded no scenario bug (scenarioError) and no timeout', function () {
    const bad = [...RECORDED].filter(([, o]) => mentions(o, 'scenarioError') || mentions(o, 'timeout')).map(([n]) => n);
    expect(bad).to.deep.equal([]);
  });
});

describe('differential behaviour against RabbitMQ 3.10', function () {
  this.timeout(20000);

  let broker: TestBroker | undefined;
  before(async function () {
    if (warrenUrl === undefined) {
      broker = await startTestBroker();
      warrenUrl = broker.url;
    }
  });
  after(async function () {
    await broker?.close();
  });

  for (const scenario of SCENARIOS) {
    it(scenario.name, async function () {
      const recorded = RECORDED.get(scenario.name);
      let reference: Outcome | undefined = recorded;
      if (rabbitUrl) {
        reference = await scenario.run(rabbitUrl);
        expect(reference, 'RabbitMQ now vs test/support/rabbitmq-recorded.json').to.deep.equal(recorded);
      }
      if (warrenUrl) {
        expect(reference, 'no RabbitMQ outcome to compare with').to.not.equal(undefined);
        const warren = await scenario.run(warrenUrl);
        const known = DIFFERENCES[scenario.name];
        if (known !== undefined) expect(warren, `known difference: ${known.reason}`).to.deep.equal(known.outcome);
        else expect(warren, 'Warren vs RabbitMQ').to.deep.equal(reference);
      }
    });
  }
});
