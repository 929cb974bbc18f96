import { expect } from 'chai';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store';
import { ROOT, startApp } from './app-process';

async function get(base: string, path: string, auth?: string): Promise<number> {
  const res = await fetch(base + path, auth ? { headers: { authorization: auth } } : undefined);
  await res.arrayBuffer();
  return res.status;
}

describe('one endpoint name per route, in process', function () {
  this.timeout(60_000);
  before(() => {
    expect(existsSync(join(ROOT, 'dist', 'register.mjs')), 'run npm run build first').to.equal(true);
  });

  it('files a 401 answered before routing under the route template of the routed requests, one facet entry', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-names-')), 'n.db');
    let app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db } });
    expect(await get(app.base, '/items/7', 'Bearer wrong')).to.equal(401); // no template known yet
    await new Promise((r) => setTimeout(r, 300));
    expect(await get(app.base, '/items/42')).to.equal(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await get(app.base, '/items/43', 'Bearer wrong')).to.equal(401);
    expect(await get(app.base, '/v1/orders/9')).to.equal(200);
    expect(await get(app.base, '/v1/orders/8', 'Bearer wrong')).to.equal(401);
    await app.stop();
    // Restarted: the templates already in the database name the first unrouted request.
    app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db } });
    expect(await get(app.base, '/items/44', 'Bearer wrong')).to.equal(401);
    await app.stop();

    const store = await openStore({ url: db });
    try {
      const rows = (await store.listLogs({}, { limit: 50 })).data.reverse();
      expect(rows.map((r) => `${r.status} ${r.endpoint}`)).to.deep.equal([
        '401 /items/{id}',
        '200 /items/:id',
        '401 /items/:id',
        '200 /v1/orders/:orderId',
        '401 /v1/orders/:orderId',
        '401 /items/:id',
      ]);
      const facets = await store.facets({ from: Math.floor(rows[1].timestampUs / 1000) });
      expect(facets.endpoints).to.deep.equal(['/items/:id', '/v1/orders/:orderId']);
      expect(await store.countLogs({ endpoints: ['/items/:id'], statusClasses: [4] })).to.equal(2);
    } finally {
      await store.close();
    }
  });
});
