/**
 * The committed generated code must be exactly what spec/amqp0-9-1.json and codegen/ produce
 * (ARCHITECTURE practice 1): regenerate in memory and compare with the files on disk.
 */
import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findDrift, generate, GENERATED_DIR } from '../../codegen/generate.js';
import { BANNER } from '../../codegen/source.js';

describe('codegen drift', () => {
  it('the committed src/protocol/generated/ is what the spec generates (else run `make codegen`)', () => {
    const drift = findDrift(generate());
    expect(drift.stale, 'stale generated files').to.deep.equal([]);
    expect(drift.orphaned, 'generated files the spec no longer produces').to.deep.equal([]);
  });

  it('generates deterministically, every file under the banner', () => {
    const first = generate();
    const second = generate();
    expect([...first.keys()]).to.deep.equal([...second.keys()]);
    for (const [path, text] of first) {
      expect(second.get(path), path).to.equal(text);
      expect(path.startsWith(`${GENERATED_DIR}/`), path).to.equal(true);
      expect(text.split('\n')[0], path).to.equal(BANNER);
      expect(text.endsWith('\n') && !text.endsWith('\n\n'), `${path} ends with one newline`).to.equal(true);
    }
  });

  describe('findDrift against a scratch tree', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'warren-codegen-'));
    });
    afterEach(() => {
      rmSync(root, { recursive: true, force: true });
    });

    function writeTree(files: ReadonlyMap<string, string>): void {
      for (const [path, text] of files) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
    }

    it('reports nothing for an up-to-date tree', () => {
      const files = generate();
      writeTree(files);
      expect(findDrift(files, root)).to.deep.equal({ stale: [], orphaned: [] });
    });

    it('names an edited file, a missing file and an orphaned generated file', () => {
      const files = generate();
      writeTree(files);
      const [edited, missing] = [...files.keys()];
      writeFileSync(join(root, edited!), `${files.get(edited!)!}// hand edit\n`);
      rmSync(join(root, missing!));
      writeFileSync(join(root, GENERATED_DIR, 'old.ts'), `${BANNER}\nexport {};\n`);
      writeFileSync(join(root, GENERATED_DIR, 'notes.md'), 'not generated: left alone\n');
      const drift = findDrift(files, root);
      expect(drift.stale).to.have.members([edited, missing]);
      expect(drift.orphaned).to.deep.equal([`${GENERATED_DIR}/old.ts`]);
    });
  });
});
