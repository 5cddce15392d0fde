import { expect } from 'chai';
import { OPTION_LIST } from '../../../src/cli/args.js';
import { CONFIG_FILE_KEYS } from '../../../src/cli/config-file.js';
import { helpText } from '../../../src/cli/help.js';
import { DEFAULT_CONFIG } from '../../../src/config.js';

describe('cli/help', () => {
  const text = helpText('9.8.7');

  it('lists every option with its environment variable, config key and default', () => {
    for (const spec of OPTION_LIST) {
      const at = text.indexOf(`--${spec.flag}${spec.arg === undefined ? ',' : ` ${spec.arg}`}`);
      expect(at, spec.flag).to.be.greaterThan(-1);
      // The details line follows the flag (or its description, when the flag is too long to share a line
      // with it) and wraps after a comma where it would pass 100 columns.
      const pad = ' '.repeat(28);
      const lines = text.slice(at).split('\n').slice(1);
      const first = lines.findIndex((l) => l.startsWith(`${pad}env `));
      expect(first, spec.flag).to.be.oneOf([0, 1]);
      const rest = lines.slice(first + 1);
      const more = rest.findIndex((l) => !l.startsWith(pad));
      const details = [lines[first]!, ...rest.slice(0, more < 0 ? rest.length : more)].map((l) => l.trim()).join(' ');
      const shown = spec.showDefault(DEFAULT_CONFIG[spec.key]);
      expect(details, spec.flag).to.equal(`env ${spec.env}, config ${spec.configKey}, default ${shown}`);
    }
  });

  it('shows the version, --config, --help, --version and the exit codes', () => {
    expect(text).to.include('Warren 9.8.7');
    expect(text).to.match(/^ {2}--config FILE +JSON config file/m);
    expect(text).to.include('env WARREN_CONFIG');
    expect(text).to.match(/^ {2}-h, --help/m);
    expect(text).to.match(/^ {2}-v, --version/m);
    expect(text).to.match(/Exit status: 0 after a clean shutdown; 1 on/);
  });

  it('names every config file key', () => {
    for (const key of CONFIG_FILE_KEYS) expect(text, key).to.include(key);
  });

  it('fits in 100 columns', () => {
    for (const line of text.split('\n')) expect(line.length, line).to.be.at.most(100);
  });
});
