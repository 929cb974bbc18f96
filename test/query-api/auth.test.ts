import { expect } from 'chai';
import { createHttpApp, generateApiKey } from '../../src/query-api';
import { addressBuckets, normalizeAddress } from '../../src/query-api/throttle';
import { listen } from '../helpers/http';
import { createTestStore, type TestStore } from '../helpers/stores';

const ADMIN = 'admin-key-for-auth-tests-0123456789-abcdef';

describe('query API keys: guessing throttled, valid keys never locked out', function () {
  this.timeout(60_000);
  let t: TestStore;
  let viewer = '';
  before(async () => {
    t = await createTestStore('sqlite');
    const v = generateApiKey();
    await t.store.createApiKey({ name: 'tenant', companyId: 'acme', hash: v.hash });
    viewer = v.key;
  });
  after(() => t.cleanup());

  async function server(options: { limit?: number; trustProxy?: boolean } = {}) {
    return listen(createHttpApp({ store: t.store, adminKey: ADMIN, authFailureLimit: options.limit ?? 10, trustProxy: options.trustProxy }));
  }
  const call = (base: string, key: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/whoami`, { headers: { authorization: `Bearer ${key}`, ...headers } }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  it('does not let a valid key reset the failure budget of the same address', async () => {
    const s = await server({ limit: 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push(await call(s.base, `guess-${i}`));
        expect(await call(s.base, viewer)).to.equal(200);
      }
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    } finally {
      await s.close();
    }
  });

  it('keeps accepting valid keys from an address whose guesses are refused (shared NAT or proxy)', async () => {
    const s = await server({ limit: 3 });
    try {
      for (let i = 0; i < 6; i++) await call(s.base, `guess-${i}`);
      expect(await call(s.base, 'one-more-guess')).to.equal(429);
      expect(await call(s.base, viewer)).to.equal(200);
      expect(await call(s.base, ADMIN)).to.equal(200);
    } finally {
      await s.close();
    }
  });

  it('counts 1000 parallel guesses before checking them: exactly the limit get 401, the rest 429', async function () {
    // 1000 connections at once: slow on a loaded machine, whatever the server does.
    this.timeout(180_000);
    const s = await server({ limit: 10 });
    try {
      const statuses = await Promise.all(Array.from({ length: 1000 }, (_, i) => call(s.base, `parallel-guess-${i}`)));
      const count = (n: number) => statuses.filter((x) => x === n).length;
      expect({ 401: count(401), 429: count(429) }).to.deep.equal({ 401: 10, 429: 990 });
    } finally {
      await s.close();
    }
  });

  it('ignores X-Forwarded-For unless the proxy is trusted', async () => {
    const s = await server({ limit: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await call(s.base, 'guess', { 'x-forwarded-for': `203.0.113.${i}` }));
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429, 429]);
    } finally {
      await s.close();
    }
  });

  it('behind a trusted proxy, counts an IPv6 client per /64 and cannot be dodged by a forged first hop', async () => {
    const s = await server({ limit: 3, trustProxy: true });
    try {
      const statuses: number[] = [];
      // Every request from another address of the same /64, and a forged entry before it.
      for (let i = 1; i <= 6; i++) statuses.push(await call(s.base, 'guess', { 'x-forwarded-for': `198.51.100.${i}, 2001:db8:1:2::${i.toString(16)}` }));
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429, 429]);
      // Another /64 has its own budget; IPv4 clients are counted per address.
      expect(await call(s.base, 'guess', { 'x-forwarded-for': '2001:db8:1:3::1' })).to.equal(401);
      expect(await call(s.base, 'guess', { 'x-forwarded-for': '192.0.2.7' })).to.equal(401);
      // The locked /64 still gets in with a valid key.
      expect(await call(s.base, viewer, { 'x-forwarded-for': '2001:db8:1:2::99' })).to.equal(200);
    } finally {
      await s.close();
    }
  });

  it('caps a whole /48 too, so rotating through /64s gains little', async () => {
    const s = await server({ limit: 2, trustProxy: true });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) statuses.push(await call(s.base, 'guess', { 'x-forwarded-for': `2001:db8:7:${i.toString(16)}::1` }));
      expect(statuses.filter((x) => x === 401)).to.have.length(20);
      expect(statuses.slice(20)).to.deep.equal([429, 429, 429, 429, 429]);
    } finally {
      await s.close();
    }
  });

  it('normalizes addresses: IPv4-mapped IPv6 is IPv4, IPv6 is grouped by /64 and /48', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).to.equal('127.0.0.1');
    expect(normalizeAddress('2001:db8::1')).to.equal('2001:0db8:0000:0000:0000:0000:0000:0001');
    expect(addressBuckets('2001:DB8:0:0:1::ff').map((b) => b.key)).to.deep.equal(['2001:0db8:0000:0000::/64', '2001:0db8:0000::/48']);
    expect(addressBuckets('10.0.0.1').map((b) => b.key)).to.deep.equal(['10.0.0.1']);
  });
});
