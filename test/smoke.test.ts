import { expect } from 'chai';
import { loadConfig, ConfigError } from '../src/config';

describe('config', () => {
  it('fills documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).to.equal(8080);
    expect(c.db).to.equal('./auditspan.db');
  });
  it('names the variable of a bad value', () => {
    expect(() => loadConfig({ AUDITSPAN_PORT: 'abc' })).to.throw(ConfigError, /AUDITSPAN_PORT/);
  });
});
