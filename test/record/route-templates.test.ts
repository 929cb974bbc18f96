import { expect } from 'chai';
import { nameByRoute, RouteTemplates } from '../../src/record/route-templates';
import type { AuditRecord } from '../../src/record/types';

function templates(service: string | null, ...list: string[]): RouteTemplates {
  const routes = new RouteTemplates();
  for (const t of list) routes.learn(service, t);
  return routes;
}

describe('route templates for requests rejected before routing', () => {
  it('matches express, hapi/OpenAPI and wildcard parameters', () => {
    const routes = templates('api', '/v1/customers/:id', '/users/{userId}/keys/{keyId}', '/files/*path', '/opt/:slug?');
    expect(routes.match('api', '/v1/customers/42')).to.equal('/v1/customers/:id');
    expect(routes.match('api', '/v1/customers/cus_NffrFeUfNV2Hib')).to.equal('/v1/customers/:id');
    expect(routes.match('api', '/users/alice/keys/k1')).to.equal('/users/{userId}/keys/{keyId}');
    expect(routes.match('api', '/files/report.pdf')).to.equal('/files/*path');
    expect(routes.match('api', '/opt/x')).to.equal('/opt/:slug?');
  });

  it('needs the same number of segments and every literal segment equal', () => {
    const routes = templates('api', '/v1/customers/:id');
    expect(routes.match('api', '/v1/customers/42/cards')).to.equal(undefined);
    expect(routes.match('api', '/v1/customers')).to.equal(undefined);
    expect(routes.match('api', '/v2/customers/42')).to.equal(undefined);
    expect(routes.match('api', '/V1/customers/42')).to.equal(undefined);
    expect(routes.match('api', '/v1/customers/')).to.equal(undefined);
    // A trailing slash is the same route.
    expect(routes.match('api', '/v1/customers/42/')).to.equal('/v1/customers/:id');
  });

  it('prefers the template with the most literal segments, then the leftmost literal', () => {
    const routes = templates('api', '/v1/:kind/:id', '/v1/customers/:id', '/v1/customers/me', '/a/:x/c', '/a/b/:y');
    expect(routes.match('api', '/v1/customers/me')).to.equal('/v1/customers/me');
    expect(routes.match('api', '/v1/customers/42')).to.equal('/v1/customers/:id');
    expect(routes.match('api', '/v1/orders/42')).to.equal('/v1/:kind/:id');
    expect(routes.match('api', '/a/b/c')).to.equal('/a/b/:y');
  });

  it('keeps the templates of each service apart', () => {
    const routes = templates('billing', '/v1/customers/:id');
    expect(routes.match('shipping', '/v1/customers/42')).to.equal(undefined);
    expect(routes.match(null, '/v1/customers/42')).to.equal(undefined);
    routes.learn(null, '/x/:id');
    expect(routes.match(null, '/x/1')).to.equal('/x/:id');
  });

  it('stays bounded in services and templates', () => {
    const routes = new RouteTemplates({ maxServices: 2, maxTemplates: 3 });
    for (let i = 0; i < 10; i++) routes.learn('a', `/t${i}/:id`);
    for (let i = 0; i < 10; i++) routes.learn(`s${i}`, '/x/:id');
    expect(routes.match('a', '/t2/1')).to.equal('/t2/:id');
    expect(routes.match('a', '/t3/1')).to.equal(undefined);
    expect(routes.match('s0', '/x/1')).to.equal('/x/:id');
    expect(routes.match('s1', '/x/1')).to.equal(undefined);
  });

  it('seeds from stored endpoints, but not from paths whose ids were collapsed', () => {
    const routes = new RouteTemplates();
    routes.seed([
      { service: 'api', endpoint: '/v1/customers/{id}' },
      { service: 'api', endpoint: '/health' },
      { service: 'api', endpoint: '/v1/orders/:orderId' },
      { service: 'api', endpoint: '/users/{userId}' },
    ]);
    expect(routes.match('api', '/v1/customers/42')).to.equal(undefined);
    expect(routes.match('api', '/health')).to.equal(undefined);
    expect(routes.match('api', '/v1/orders/7')).to.equal('/v1/orders/:orderId');
    expect(routes.match('api', '/users/alice')).to.equal('/users/{userId}');
  });

  it('names the unrouted records of a batch after the routed ones, whatever their order', () => {
    const record = (url: string, endpoint: string): AuditRecord => ({ url, endpoint, service: 'api' }) as AuditRecord;
    const batch = [
      record('http://localhost:3000/v1/customers/42?x=1', '/v1/customers/{id}'),
      record('http://localhost:3000/v1/customers/43', '/v1/customers/:id'),
      record('/v1/unknown/1', '/v1/unknown/{id}'),
    ];
    nameByRoute(new RouteTemplates(), batch, [false, true, false]);
    expect(batch.map((r) => r.endpoint)).to.deep.equal(['/v1/customers/:id', '/v1/customers/:id', '/v1/unknown/{id}']);
  });
});
