import { expect } from 'chai';
import { prepare } from '../../src/ui/charts';
import { buildCurl, formatTick, formatTimeFull, fromDateTimeLocal, statusText, toDateTimeLocal } from '../../src/ui/format';
import type { Stats } from '../../src/ui/types';

describe('UI formatters and chart data', () => {
  it('names status codes with their reason phrase', () => {
    expect(statusText(401)).to.equal('401 Unauthorized');
    expect(statusText(502)).to.equal('502 Bad Gateway');
    expect(statusText(299)).to.equal('299');
  });

  it('formats times in UTC or a named zone on a 24-hour clock', () => {
    const t = Date.parse('2026-12-02T22:05:09.007Z');
    expect(formatTimeFull(t, 'utc')).to.equal('2026-12-02 22:05:09.007 UTC');
    expect(formatTimeFull(t, 'Asia/Kolkata')).to.equal('2026-12-03 03:35:09.007 UTC+05:30');
    expect(formatTimeFull(t, 'America/New_York')).to.equal('2026-12-02 17:05:09.007 UTC-05:00');
    expect(formatTick(t, 3_600_000, 'America/New_York')).to.equal('17:05');
    expect(formatTick(Date.parse('2026-12-03T00:00:00Z'), 3_600_000, 'utc')).to.equal('Dec 03');
  });

  it('reads and fills the custom range inputs as wall-clock times of the chosen zone', () => {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    expect(iso(fromDateTimeLocal('2026-12-02T10:00', 'utc'))).to.equal('2026-12-02T10:00:00.000Z');
    expect(iso(fromDateTimeLocal('2026-12-02T10:00', 'Asia/Kolkata'))).to.equal('2026-12-02T04:30:00.000Z');
    expect(iso(fromDateTimeLocal('2026-07-01T10:00', 'America/New_York'))).to.equal('2026-07-01T14:00:00.000Z');
    expect(iso(fromDateTimeLocal('2026-12-01T10:00', 'America/New_York'))).to.equal('2026-12-01T15:00:00.000Z');
    // Daylight-saving changes in Paris (2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00).
    expect(iso(fromDateTimeLocal('2026-03-29T01:59', 'Europe/Paris'))).to.equal('2026-03-29T00:59:00.000Z');
    expect(iso(fromDateTimeLocal('2026-03-29T02:30', 'Europe/Paris'))).to.equal('2026-03-29T01:30:00.000Z'); // skipped: 03:30 on the clock
    expect(iso(fromDateTimeLocal('2026-03-29T03:00', 'Europe/Paris'))).to.equal('2026-03-29T01:00:00.000Z');
    expect(iso(fromDateTimeLocal('2026-10-25T02:30', 'Europe/Paris'))).to.equal('2026-10-25T00:30:00.000Z'); // repeated: the first
    expect(iso(fromDateTimeLocal('2026-10-25T03:30', 'Europe/Paris'))).to.equal('2026-10-25T02:30:00.000Z');
    expect(fromDateTimeLocal('', 'utc')).to.equal(null);
    expect(fromDateTimeLocal('2026-13-45T99:00', 'Europe/Paris')).to.equal(null);
    for (const zone of ['utc', 'Asia/Kolkata', 'America/New_York', 'Europe/Paris', 'Australia/Lord_Howe']) {
      for (const at of ['2026-03-29T00:59:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-12-02T22:05:00Z']) {
        const ms = Date.parse(at);
        const text = toDateTimeLocal(ms, zone);
        // Round trip, but for the second of a repeated hour (its clock time reads as the first).
        if (!(zone === 'Europe/Paris' && at === '2026-10-25T01:30:00Z')) expect(iso(fromDateTimeLocal(text, zone)), `${zone} ${at}`).to.equal(new Date(ms).toISOString());
      }
    }
    expect(toDateTimeLocal(Date.parse('2026-12-02T22:05:09Z'), 'Asia/Kolkata')).to.equal('2026-12-03T03:35');
  });

  it('builds a cURL without trace headers and with $API_KEY where a credential was used', () => {
    const curl = buildCurl({
      method: 'POST', url: 'https://api.example.com/v1/charges', tokenName: 'prod-billing', requestPayload: '{"a":1}',
      requestHeaders: { traceparent: '00-abc-def-01', tracestate: 'x=1', 'content-type': 'application/json' },
    });
    expect(curl).to.not.contain('traceparent').and.not.contain('tracestate');
    expect(curl).to.contain('-H "Authorization: Bearer $API_KEY"').and.contain("-H 'content-type: application/json'");
    expect(buildCurl({ method: 'GET', url: 'https://x/', requestHeaders: {} })).to.equal("curl 'https://x/'");
  });

  it('fills buckets without requests with nulls (the latency line breaks) and marks partial buckets', () => {
    const h = 3_600_000;
    const from = Date.parse('2026-12-02T00:30:00Z');
    const to = Date.parse('2026-12-02T04:30:00Z');
    const bucket = (t: string, total: number, p50: number) =>
      ({ t, total, p50, p95: p50 * 2, '1xx': 0, '2xx': total, '3xx': 0, '4xx': 0, '5xx': 0 });
    const stats = {
      total: 12, byStatusClass: { '1xx': 0, '2xx': 12, '3xx': 0, '4xx': 0, '5xx': 0 }, errorRate: 0, latency: { p50: 1, p95: 2, p99: 3 },
      bucketMs: h, endpoints: [],
      series: [bucket('2026-12-02T00:00:00.000Z', 2, 10), bucket('2026-12-02T01:00:00.000Z', 6, 20), bucket('2026-12-02T04:00:00.000Z', 4, 30)],
    } as Stats;
    const d = prepare(stats, { from, to });
    expect(d.x.map((x) => new Date(x * 1000).toISOString().slice(11, 13))).to.deep.equal(['00', '01', '02', '03', '04']);
    expect(d.p50).to.deep.equal([10, 20, null, null, 30]);
    expect(d.stacked[0]).to.deep.equal([2, 6, 0, 0, 4]);
    expect(d.coverage).to.deep.equal([0.5, 1, 1, 1, 0.5]);
  });
});
