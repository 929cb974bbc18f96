import { expect } from 'chai';
import { toRow, withRowValues } from '../../src/store/rows';
import { generateRecords } from '../helpers/fixtures';

describe('audit rows', () => {
  it('gives the positional values in the order and form of toRow (truncated as 0/1)', () => {
    const records = generateRecords(50, 3);
    records[0] = { ...records[0], truncated: true, requestHeaders: null, tokenName: null };
    for (const r of records) {
      const byName = Object.values(toRow(r, 1_764_000_000_000)).map((v) => (typeof v === 'boolean' ? Number(v) : v));
      expect(withRowValues(r, 1_764_000_000_000, (...values) => values)).to.deep.equal(byName);
    }
  });
});
