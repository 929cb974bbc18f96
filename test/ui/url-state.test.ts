import { expect } from 'chai';
import { apiParams, defaultFilters, parseLocation, toLocation } from '../../src/ui/url-state';

describe('UI URL state', () => {
  it('round-trips every filter and the open log through the URL', () => {
    const url = '/logs/abc-123?from=2026-11-20T10:00:00Z&to=2026-11-21T10:00:00.500Z&endpoint=%2Fv1%2Fcharges&token=prod-billing' +
      '&status=4xx,503&method=GET,POST&q=declined&minLatencyMs=250';
    const [path, search] = url.split('?');
    const view = parseLocation(path, `?${search}`);
    expect(view.log).to.equal('abc-123');
    expect(view.filters).to.deep.equal({
      range: null, from: Date.parse('2026-11-20T10:00:00Z'), to: Date.parse('2026-11-21T10:00:00.500Z'),
      endpoint: ['/v1/charges'], token: ['prod-billing'], status: ['4xx', '503'], method: ['GET', 'POST'],
      q: 'declined', minLatencyMs: 250, maxLatencyMs: null, service: [], compare: false,
    });
    expect(toLocation(view)).to.equal(url.replace('%2Fv1%2Fcharges', '/v1/charges'));
  });

  it('leaves defaults out, so the default view is plain /', () => {
    expect(toLocation({ filters: defaultFilters(), log: null })).to.equal('/');
    expect(toLocation({ filters: { ...defaultFilters(), range: '1h' }, log: null })).to.equal('/?range=1h');
  });

  it('drops invalid values instead of failing: bad status, negative latency, unknown range, odd dates', () => {
    const { filters } = parseLocation('/', '?status=6xx,99,abc,2XX&minLatencyMs=-5&range=2y&method=get,<x>');
    expect(filters.status).to.deep.equal(['2xx']);
    expect(filters.minLatencyMs).to.equal(null);
    expect(filters.range).to.equal('24h');
    expect(filters.method).to.deep.equal(['GET']);
    expect(parseLocation('/', '?from=March').filters.range).to.equal('24h');
    expect(parseLocation('/logs/%E0%A4%A', '').log).to.equal(null);
  });

  it('turns a relative range into an absolute from for the API', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    const params = apiParams({ ...defaultFilters(), range: '15m', status: ['5xx'] }, now);
    expect(params.toString()).to.equal(`from=${now - 15 * 60_000}&status=5xx`);
  });
});
