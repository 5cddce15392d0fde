/**
 * The documented mocha example, run exactly as printed: the code block marked
 * `<!-- readme-example: mocha -->` becomes the spec file its first comment names, and the command marked
 * `<!-- readme-example: mocha-command -->` runs it, in a scratch project where `warren-mq` and `amqplib`
 * are installed (as symlinks to this package and to its amqplib).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MOCHA_BIN = path.join(PROJECT_ROOT, 'node_modules/mocha/bin/mocha.js');

/** The fenced block that follows `<!-- readme-example: NAME -->`, or undefined. */
function markedBlock(markdown: string, name: string): string | undefined {
  const re = new RegExp(`<!-- readme-example: ${name} -->\\s*\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``);
  return re.exec(markdown)?.[1];
}

const DOCS = ['README.md'];

describe('README mocha example (run exactly as printed)', function () {
  this.timeout(30000);

  it('README.md carries the marked example and command', () => {
    const md = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(markedBlock(md, 'mocha'), 'example block').to.be.a('string');
    expect(markedBlock(md, 'mocha-command'), 'command block').to.be.a('string');
  });

  for (const doc of DOCS) {
    it(`${doc}: the example passes and mocha exits by itself`, async function () {
      const file = path.join(PROJECT_ROOT, doc);
      const md = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      const code = markedBlock(md, 'mocha');
      const command = markedBlock(md, 'mocha-command');
      if (code === undefined || command === undefined) throw new Error(`${doc} lost its marked example`);
      const specPath = /^\/\/ (\S+\.js)\n/.exec(code)?.[1];
      expect(specPath, 'the example starts with a comment naming its file').to.be.a('string');
      const argv = command.trim().split(/\s+/);
      expect(argv.slice(0, 2), 'the command runs mocha through npx').to.deep.equal(['npx', 'mocha']);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-readme-'));
      try {
        fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme-example', type: 'module', private: true }));
        const modules = path.join(dir, 'node_modules');
        fs.mkdirSync(modules);
        fs.symlinkSync(PROJECT_ROOT, path.join(modules, 'warren-mq'), 'dir');
        fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules', 'amqplib'), path.join(modules, 'amqplib'), 'dir');
        fs.mkdirSync(path.dirname(path.join(dir, specPath!)), { recursive: true });
        fs.writeFileSync(path.join(dir, specPath!), code);
        const result = await runMocha(dir, argv.slice(2), modules);
        expect(result.code, `${result.stdout}\n${result.stderr}`).to.equal(0);
        const passing = /(\d+) passing/.exec(result.stdout);
        expect(Number(passing?.[1]), result.stdout).to.equal((code.match(/^\s*it\(/gm) ?? []).length);
        expect(result.stdout).to.not.match(/failing|pending/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

interface RunResult { code: number | null; stdout: string; stderr: string }

/**
 * `npx mocha ARGS` in the scratch project. In a real install mocha and warren-mq are siblings in
 * node_modules; here mocha is this project's, so NODE_PATH lets its require('warren-mq/mocha') find the
 * scratch project's warren-mq (resolved through the package's exports map as usual).
 */
function runMocha(cwd: string, args: string[], nodePath: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: nodePath };
    delete env.AMQP_URL;
    execFile(process.execPath, [MOCHA_BIN, ...args], { cwd, env, timeout: 20000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err !== null && (err.killed || err.signal !== null)) {
        reject(new Error(`mocha did not exit by itself (killed after 20 s)\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr });
    });
  });
}
