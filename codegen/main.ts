/**
 * `node dist/codegen/main.js` writes src/protocol/generated/ from spec/amqp0-9-1.json.
 * `node dist/codegen/main.js --check` writes nothing and exits 1, naming each stale file, when the
 * committed output differs from what the spec and generator produce.
 */
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, findDrift, generate } from './generate.js';

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const files = generate();
  const drift = findDrift(files);
  if (check) {
    if (drift.stale.length === 0 && drift.orphaned.length === 0) return 0;
    for (const path of drift.stale) process.stderr.write(`stale: ${path}\n`);
    for (const path of drift.orphaned) process.stderr.write(`orphaned (no longer generated): ${path}\n`);
    process.stderr.write('generated code is out of date with spec/amqp0-9-1.json or codegen/: run `make codegen`\n');
    return 1;
  }
  for (const path of drift.stale) {
    const full = join(ROOT, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, files.get(path)!);
    process.stdout.write(`wrote ${path}\n`);
  }
  for (const path of drift.orphaned) {
    unlinkSync(join(ROOT, path));
    process.stdout.write(`removed ${path}\n`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
