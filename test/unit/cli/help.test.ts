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
      const details = text.slice(at).split('\n')[1] ?? '';
      const shown = spec.showDefault(DEFAULT_CONFIG[spec.key]);
      expect(details, spec.flag).to.equal(`${' '.repeat(28)}env ${spec.env}, config ${spec.configKey}, default ${shown}`);
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
