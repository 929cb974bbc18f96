import type { AuditRecord } from '../../src/record/types';

/** Small, fast, seeded PRNG (mulberry32): the same seed gives the same fixtures. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const COMPANIES = ['acme', 'globex', 'initech', 'umbrella'] as const;
export const TOKENS: Record<string, string[]> = {
  acme: ['prod-billing', 'prod-dashboard'],
  globex: ['globex-sync'],
  initech: ['initech-mobile', 'initech-batch'],
  umbrella: ['umbrella-staging'],
};
export const ENDPOINTS = [
  ['GET', '/v1/customers'], ['GET', '/v1/customers/{id}'], ['POST', '/v1/customers'], ['DELETE', '/v1/customers/{id}'],
  ['POST', '/v1/charges'], ['GET', '/v1/invoices'], ['GET', '/v1/invoices/{id}'], ['POST', '/v1/refunds'],
  ['PATCH', '/v1/subscriptions/{id}'], ['GET', '/v1/events'],
] as const;
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 201, 204, 301, 304, 400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503];

export interface FixtureOptions {
  /** Newest timestamp, epoch ms. Default: now. */
  endMs?: number;
  /** Time covered, ms. Default 7 days. */
  spanMs?: number;
}

/** Realistic audit records: several companies, tokens, endpoints, a status mix and a long-tailed latency. */
export function generateRecords(n: number, seed = 1, options: FixtureOptions = {}): AuditRecord[] {
  const rand = prng(seed);
  const end = options.endMs ?? Date.now();
  const span = options.spanMs ?? 7 * 86_400_000;
  const hex = (len: number) => {
    let s = '';
    for (let i = 0; i < len; i++) s += Math.floor(rand() * 16).toString(16);
    return s;
  };
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    const company = COMPANIES[Math.floor(rand() * COMPANIES.length)];
    const tokens = TOKENS[company];
    const [method, endpoint] = ENDPOINTS[Math.floor(rand() * ENDPOINTS.length)];
    const status = STATUSES[Math.floor(rand() * STATUSES.length)];
    const id = 1000 + Math.floor(rand() * 9000);
    const path = endpoint.replace('{id}', String(id));
    const latencyMs = Math.round((5 + -Math.log(1 - rand()) * 40 + (status >= 500 ? 300 : 0)) * 1000) / 1000;
    const failed = status >= 400;
    out.push({
      traceId: hex(32),
      spanId: hex(16),
      timestampUs: Math.floor((end - rand() * span) * 1000),
      method,
      url: `https://api.example.com${path}${rand() < 0.3 ? `?page=${Math.floor(rand() * 5)}` : ''}`,
      endpoint,
      status,
      latencyMs,
      tokenName: rand() < 0.05 ? null : tokens[Math.floor(rand() * tokens.length)],
      clientIp: `203.0.113.${Math.floor(rand() * 255)}`,
      userAgent: rand() < 0.5 ? 'acme-sdk/2.1 node/20' : 'python-requests/2.32',
      clientId: `client-${Math.floor(rand() * 5)}`,
      companyId: company,
      service: 'payments-api',
      requestPayload: method === 'GET' ? null : JSON.stringify({ amount: Math.floor(rand() * 10000), currency: 'eur' }),
      responsePayload: failed ? JSON.stringify({ error: { message: `request failed with ${status}` } }) : null,
      requestHeaders: { 'content-type': 'application/json', 'x-request-id': hex(12) },
      truncated: false,
      error: failed ? `request failed with ${status}${status === 500 ? ': database timeout' : ''}` : null,
    });
  }
  return out;
}
