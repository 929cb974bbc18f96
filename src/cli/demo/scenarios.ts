/** What the demo's traffic looks like: realistic calls with fake secrets in them. */
export interface Outcome {
  status: number;
  weight: number;
  response?: unknown;
  latencyMs: [number, number];
}

export interface Scenario {
  method: string;
  route: string;
  path: () => string;
  body?: () => unknown;
  weight: number;
  /** Used only when history is seeded through OTLP (live traffic gets the app's real answer). */
  outcomes: Outcome[];
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];
const id = (): string => String(1000 + Math.floor(Math.random() * 90));

export const SCENARIOS: readonly Scenario[] = [
  {
    method: 'GET', route: '/v1/customers', weight: 20,
    path: () => pick(['/v1/customers?limit=20', '/v1/customers?email=jane.doe%40example.com&limit=5', '/v1/customers?limit=100&starting_after=cus_1042']),
    outcomes: [{ status: 200, weight: 1, latencyMs: [8, 40] }],
  },
  {
    method: 'GET', route: '/v1/customers/:id', weight: 18, path: () => `/v1/customers/cus_${id()}`,
    outcomes: [
      { status: 200, weight: 9, latencyMs: [5, 25] },
      { status: 404, weight: 1, latencyMs: [4, 12], response: { error: { type: 'invalid_request_error', message: "No such customer: 'cus_1049'" } } },
    ],
  },
  {
    method: 'POST', route: '/v1/customers', weight: 12, path: () => '/v1/customers',
    body: () => pick([
      { name: 'Jane Doe', email: 'jane.doe@example.com', phone: '+1 415 555 0199', password: 'hunter2-Secret!', address: { line1: '1 Main St', city: 'Springfield' } },
      { name: 'Max Mustermann', email: 'max@beispiel.de', metadata: { iban: 'DE89 3704 0044 0532 0130 00', ssn: '078-05-1120' } },
      { name: 'No Email Ltd' },
    ]),
    outcomes: [
      { status: 201, weight: 3, latencyMs: [15, 55] },
      { status: 422, weight: 1, latencyMs: [10, 30], response: { error: { type: 'validation_error', message: 'email is required and must be valid', param: 'email' } } },
    ],
  },
  {
    method: 'POST', route: '/v1/charges', weight: 16, path: () => '/v1/charges',
    body: () => ({
      amount: pick([1200, 4999, 250, 0, 99000]),
      currency: 'eur',
      card: { number: pick(['4242 4242 4242 4242', '5555555555554444', '4000 0000 0000 0002']), cvc: '123', exp_month: 12, exp_year: 2029 },
      description: 'Order #4521 for receipts@example.org',
      metadata: { api_key: 'sk_live_should_never_be_here_12345' },
    }),
    outcomes: [
      { status: 201, weight: 14, latencyMs: [60, 260] },
      { status: 402, weight: 2, latencyMs: [60, 200], response: { error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } } },
      { status: 400, weight: 2, latencyMs: [5, 15], response: { error: { type: 'invalid_request_error', message: 'amount must be a positive integer', param: 'amount' } } },
      { status: 502, weight: 1, latencyMs: [450, 1250], response: { error: { type: 'api_error', message: 'Upstream acquirer timed out after 1200 ms' } } },
    ],
  },
  {
    method: 'DELETE', route: '/v1/customers/:id', weight: 4, path: () => `/v1/customers/cus_${id()}`,
    outcomes: [
      { status: 204, weight: 2, latencyMs: [10, 30] },
      { status: 403, weight: 1, latencyMs: [10, 30], response: { error: { type: 'permission_error', message: 'This key may not delete customers' } } },
    ],
  },
  {
    method: 'GET', route: '/v1/invoices', weight: 12, path: () => '/v1/invoices?status=open',
    outcomes: [{ status: 200, weight: 1, latencyMs: [20, 80] }],
  },
  {
    method: 'GET', route: '/v1/invoices/:id', weight: 10, path: () => `/v1/invoices/in_${id()}`,
    outcomes: [
      { status: 200, weight: 19, latencyMs: [10, 35] },
      { status: 500, weight: 1, latencyMs: [10, 35], response: { error: { type: 'api_error', message: 'invoice renderer crashed for in_1077' } } },
    ],
  },
  {
    method: 'POST', route: '/v1/refunds', weight: 3, path: () => '/v1/refunds',
    body: () => ({ charge: 'ch_3MmlLrLkdIwHu7ix0snN0B15', reason: 'requested_by_customer', contact: 'refunds@example.com' }),
    outcomes: [{ status: 409, weight: 1, latencyMs: [30, 90], response: { error: { type: 'idempotency_error', message: 'A refund for this charge is already in progress' } } }],
  },
];

export function pickWeighted<T extends { weight: number }>(items: readonly T[]): T {
  const total = items.reduce((n, i) => n + i.weight, 0);
  let roll = Math.random() * total;
  for (const item of items) {
    roll -= item.weight;
    if (roll < 0) return item;
  }
  return items[items.length - 1];
}

export const USER_AGENTS = [
  'acme-billing/2.4.1 node-fetch/3.3',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'globex-erp-connector/1.9 (java 21)',
  'InitechMobile/5.2 (iPhone; iOS 18.1)',
  'python-requests/2.32.3',
  'curl/8.5.0',
] as const;
