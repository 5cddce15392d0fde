/**
 * generate(): the whole generated tree as path → content, computed in memory from the spec, and
 * findDrift(): how the files on disk differ from it. The CLI (main.ts) writes or checks; the drift
 * test calls both in-process.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitConstants } from './emit-constants.js';
import { emitMethods } from './emit-methods.js';
import { emitProperties } from './emit-properties.js';
import { emitWire } from './emit-wire.js';
import { loadModel } from './model.js';
import { BANNER } from './source.js';

/** The project root: this file runs as dist/codegen/generate.js. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SPEC_PATH = join(ROOT, 'spec', 'amqp0-9-1.json');
/** Paths in the generated map are relative to ROOT, with forward slashes. */
export const GENERATED_DIR = 'src/protocol/generated';

export function generate(specPath: string = SPEC_PATH): Map<string, string> {
  const model = loadModel(specPath);
  return new Map([
    [`${GENERATED_DIR}/constants.ts`, emitConstants(model)],
    [`${GENERATED_DIR}/wire.ts`, emitWire()],
    [`${GENERATED_DIR}/methods.ts`, emitMethods(model)],
    [`${GENERATED_DIR}/properties.ts`, emitProperties(model)],
  ]);
}

export interface Drift {
  /** Files whose content differs from the generated text, or that are missing. */
  readonly stale: readonly string[];
  /** Files in the generated directory that carry the banner but that the spec no longer produces. */
  readonly orphaned: readonly string[];
}

export function findDrift(files: ReadonlyMap<string, string>, root: string = ROOT): Drift {
  const stale = [...files]
    .filter(([path, text]) => {
      const full = join(root, path);
      return !existsSync(full) || readFileSync(full, 'utf8') !== text;
    })
    .map(([path]) => path);
  const dir = join(root, GENERATED_DIR);
  const orphaned = existsSync(dir)
    ? readdirSync(dir)
      .map((name) => `${GENERATED_DIR}/${name}`)
      .filter((path) => !files.has(path) && readFileSync(join(root, path), 'utf8').startsWith(BANNER))
      .sort()
    : [];
  return { stale, orphaned };
}
