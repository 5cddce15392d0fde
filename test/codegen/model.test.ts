/** The spec loader fails loudly on anything it does not understand, and naming is predictable. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { bitOctets, layout } from '../../codegen/emit-methods.js';
import { buildModel, loadModel, SpecError, type FieldModel } from '../../codegen/model.js';
import { camel, dottedName, localName, methodTypeName, pascal, upperSnake } from '../../codegen/naming.js';
import { SPEC_PATH } from '../../codegen/generate.js';

type Json = Record<string, unknown> & { classes: Array<Record<string, unknown> & { methods: Array<Record<string, unknown> & { fields: Array<Record<string, unknown>> }> }> };

function spec(): Json {
  return JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Json;
}

function basic(doc: Json) {
  return doc.classes.find((c) => c['name'] === 'basic')!;
}

function publish(doc: Json) {
  return basic(doc).methods.find((m) => m['name'] === 'publish')!;
}

function expectSpecError(doc: unknown, pattern: RegExp): void {
  expect(() => buildModel(doc)).to.throw(SpecError, pattern);
}

describe('codegen model', () => {
  it('loads every class and method of AMQP 0-9-1 as RabbitMQ speaks it', () => {
    const model = loadModel(SPEC_PATH);
    expect(model.classes.map((c) => `${c.name}:${c.id}`)).to.deep.equal([
      'connection:10', 'channel:20', 'access:30', 'exchange:40', 'queue:50', 'basic:60', 'confirm:85', 'tx:90',
    ]);
    expect(model.methods).to.have.length(66);
    const publishModel = model.methods.find((m) => m.className === 'basic' && m.name === 'publish')!;
    expect(publishModel.id).to.equal(0x003c0028);
    expect(publishModel.content).to.equal(true);
    expect(publishModel.fields.map((f) => `${f.name}:${f.type}`)).to.deep.equal([
      'ticket:short', 'exchange:shortstr', 'routing-key:shortstr', 'mandatory:bit', 'immediate:bit',
    ]);
    const get = model.methods.find((m) => m.className === 'basic' && m.name === 'get')!;
    expect(get.replies.map((r) => r.name)).to.deep.equal(['get-ok', 'get-empty']);
    expect(model.classes.find((c) => c.name === 'basic')!.properties).to.have.length(14);
    expect(model.replyCodes.filter((c) => c.severity === 'hard').map((c) => c.value)).to.deep.equal([
      320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541,
    ]);
  });

  it('rejects a domain with an unknown wire type', () => {
    const doc = spec();
    (doc['domains'] as Record<string, string>)['queue-name'] = 'string';
    expectSpecError(doc, /domains\.queue-name: unknown wire type "string"/);
  });

  it('rejects a field with an unknown domain', () => {
    const doc = spec();
    publish(doc).fields[1]!['domain'] = 'exchange-nme';
    expectSpecError(doc, /basic\.publish.*unknown domain 'exchange-nme'/);
  });

  it('rejects unknown keys (a typo must not silently drop data)', () => {
    const doc = spec();
    publish(doc)['contnet'] = true;
    expectSpecError(doc, /unknown key 'contnet'/);
  });

  it('rejects duplicate method ids, a reply to a missing method and a non-boolean flag', () => {
    let doc = spec();
    basic(doc).methods.find((m) => m['name'] === 'deliver')!['id'] = 40;
    expectSpecError(doc, /duplicate method id 40/);
    doc = spec();
    basic(doc).methods.find((m) => m['name'] === 'qos')!['replies'] = ['qos-okay'];
    expectSpecError(doc, /no method 'qos-okay' in class basic/);
    doc = spec();
    publish(doc)['synchronous'] = 'no';
    expectSpecError(doc, /basic\.publish.*synchronous: expected true or false/);
  });

  it('rejects a reply code without a soft/hard class and field names that collide in camelCase', () => {
    let doc = spec();
    const constants = doc['constants'] as Array<Record<string, unknown>>;
    delete constants.find((c) => c['name'] === 'not-found')!['class'];
    expectSpecError(doc, /not-found\)\.class: expected one of success, soft, hard/);
    doc = spec();
    publish(doc).fields.push({ name: 'routing-key', domain: 'shortstr' });
    expectSpecError(doc, /duplicate field "routing-key"/);
  });

  it('packs consecutive bits low bit first, at most 8 per octet; other fields end the run', () => {
    const f = (name: string, type: FieldModel['type']): FieldModel => ({ name, domain: type, type, reserved: false, doc: undefined });
    const bits = Array.from({ length: 10 }, (_, i) => f(`b${i}`, 'bit'));
    const steps = layout([f('s', 'short'), ...bits, f('t', 'shortstr'), f('c', 'bit')]);
    expect(steps.map((s) => (s.kind === 'fixed' ? `fixed:${s.size}` : `var:${s.field.name}`))).to.deep.equal(['fixed:4', 'var:t', 'fixed:1']);
    const first = steps[0]!;
    if (first.kind !== 'fixed') throw new Error('expected a fixed run');
    expect(first.items.map((i) => (i.kind === 'bits' ? i.fields.length : i.field.name))).to.deep.equal(['s', 8, 2]);
    expect(bitOctets([...bits, f('c', 'bit')])).to.equal(2);
  });

  it('names things in one way', () => {
    expect(camel('routing-key')).to.equal('routingKey');
    expect(camel('nowait')).to.equal('nowait');
    expect(pascal('update-secret-ok')).to.equal('UpdateSecretOk');
    expect(methodTypeName('basic', 'publish')).to.equal('BasicPublish');
    expect(dottedName('basic', 'get-empty')).to.equal('basic.get-empty');
    expect(upperSnake('precondition-failed')).to.equal('PRECONDITION_FAILED');
    expect(localName('arguments')).to.equal('arguments_');
    expect(localName('routing-key')).to.equal('routingKey');
  });
});
