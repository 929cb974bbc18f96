import { randomBytes } from 'node:crypto';
import { pickWeighted, SCENARIOS, USER_AGENTS, type Scenario } from './scenarios';
import { DEMO_TOKENS } from './tokens';

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

/** Sends one realistic request to the demo app (a few percent with a wrong key, some unsampled). */
export async function sendOne(baseUrl: string): Promise<number> {
  const scenario = pickWeighted(SCENARIOS);
  const token = Math.random() < 0.03 ? { secret: 'sk_live_revoked_000000' } : pick(DEMO_TOKENS);
  const headers: Record<string, string> = {
    authorization: `Bearer ${token.secret}`,
    'user-agent': pick(USER_AGENTS),
    'x-request-id': randomBytes(8).toString('hex'),
  };
  // Callers that do not sample must still be audited.
  if (Math.random() < 0.2) headers.traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
  let body: string | undefined;
  if (scenario.body) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(scenario.body());
  }
  const res = await fetch(baseUrl + scenario.path(), { method: scenario.method, headers, body });
  await res.arrayBuffer();
  return res.status;
}

/** Generates traffic at about `ratePerSecond` until stopped. */
export function startTraffic(baseUrl: string, ratePerSecond: number, onError: (err: Error) => void): () => void {
  let stopped = false;
  let failures = 0;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const delay = (1000 / ratePerSecond) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, delay));
      if (stopped) break;
      sendOne(baseUrl).then(
        () => { failures = 0; },
        (err: Error) => {
          failures += 1;
          if (failures === 3) onError(err);
        },
      );
    }
  };
  void loop();
  return () => { stopped = true; };
}

function attr(key: string, value: string | number): Record<string, unknown> {
  return { key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } };
}

/** One OTLP/JSON server span of a past request, as a collector in front of another service would send it. */
function historicSpan(scenario: Scenario, startMs: number): Record<string, unknown> {
  const outcome = pickWeighted(scenario.outcomes);
  const token = pick(DEMO_TOKENS);
  const latency = outcome.latencyMs[0] + Math.random() * (outcome.latencyMs[1] - outcome.latencyMs[0]);
  const startNs = BigInt(Math.round(startMs * 1000)) * 1000n;
  const endNs = startNs + BigInt(Math.round(latency * 1e6));
  const path = scenario.path();
  const [pathname, query] = path.split('?');
  const attributes = [
    attr('http.request.method', scenario.method),
    attr('url.scheme', 'https'),
    attr('server.address', 'api.example.com'),
    attr('url.path', pathname),
    attr('http.route', scenario.route),
    attr('http.response.status_code', outcome.status),
    attr('client.address', `203.0.113.${1 + Math.floor(Math.random() * 250)}`),
    attr('user_agent.original', pick(USER_AGENTS)),
    attr('auditspan.token.name', token.tokenName),
    attr('auditspan.client.id', token.clientId),
    attr('auditspan.company.id', token.companyId),
  ];
  if (query) attributes.push(attr('url.query', query));
  if (scenario.body) attributes.push(attr('auditspan.request.body', JSON.stringify(scenario.body())), attr('http.request.header.content-type', 'application/json'));
  if (outcome.response) attributes.push(attr('auditspan.response.body', JSON.stringify(outcome.response)));
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    name: `${scenario.method} ${scenario.route}`,
    kind: 2,
    startTimeUnixNano: startNs.toString(),
    endTimeUnixNano: endNs.toString(),
    attributes,
    status: outcome.status >= 500 ? { code: 2 } : {},
  };
}

/**
 * Fills the past `hours` with `count` requests through the OTLP/HTTP receiver,
 * so the charts have a history the moment the demo opens.
 */
export async function seedHistory(otlpUrl: string, count: number, hours: number): Promise<void> {
  const now = Date.now();
  const batchSize = 500;
  for (let sent = 0; sent < count; sent += batchSize) {
    const spans = [];
    for (let i = 0; i < Math.min(batchSize, count - sent); i++) {
      // Busier during the day: a simple wave over the range.
      const age = Math.random() ** 1.3 * hours * 3_600_000;
      spans.push(historicSpan(pickWeighted(SCENARIOS), now - age - 60_000));
    }
    const body = {
      resourceSpans: [{
        resource: { attributes: [attr('service.name', 'payments-api')] },
        scopeSpans: [{ scope: { name: 'auditspan-demo' }, spans }],
      }],
    };
    const res = await fetch(otlpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`seeding history failed: HTTP ${res.status} ${await res.text()}`);
  }
}
