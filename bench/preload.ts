/**
 * Rows generated inside the database by `INSERT … SELECT` (no driver round trip per row), for
 * bench/partitions.ts. The other benchmarks at scale use the realistic datasets of
 * bench/dataset.ts.
 */
/** The SELECT list of one generated row, from the integer `g` (the same SQL on both databases). */
export function rowSql(g: string, tsUs: string, nowMs: number, dialect: 'sqlite' | 'postgres'): string {
  const last16 = (e: string) => (dialect === 'postgres' ? `right(${e}, 16)` : `substr(${e}, -16)`);
  const pick = (values: string[]) => `CASE ${g} % ${values.length} ${values.map((v, i) => `WHEN ${i} THEN '${v}'`).join(' ')} END`;
  const status = `(CASE WHEN ${g} % 17 = 0 THEN 422 WHEN ${g} % 53 = 0 THEN 500 WHEN ${g} % 4 = 1 THEN 201 ELSE 200 END)`;
  return [
    `${last16(`'0000000000000000' || ${g}`)} || ${last16(`'0000000000000000' || (${g} * 7919)`)}`,
    last16(`'0000000000000000' || (${g} * 104729)`),
    tsUs,
    pick(['GET', 'POST', 'GET', 'PATCH']),
    `'https://api.example.com/v1/customers/cus_' || (${g} % 9000)`,
    pick(['/v1/customers/{id}', '/v1/charges', '/v1/invoices', '/v1/subscriptions/{id}']),
    status, `${status} / 100`, `(${g} % 997) / 10.0`,
    `'token-' || (${g} % 12)`, `'203.0.113.' || (${g} % 250)`, "'acme-sdk/2.1 node/20'", "'erp'", `'company-' || (${g} % 40)`, "'payments-api'",
    `CASE WHEN ${g} % 4 = 1 THEN '{"amount":1,"currency":"eur","card":"[REDACTED]"}' END`, 'NULL', `'{"content-type":"application/json"}'`,
    'false', `CASE WHEN ${g} % 53 = 0 THEN 'upstream timeout' END`, String(nowMs), String(nowMs),
  ].join(', ');
}

export const COLUMNS = 'trace_id, span_id, ts_us, method, url, endpoint, status, status_class, latency_ms, token_name, client_ip, user_agent, client_id, company_id, service, request_payload, response_payload, request_headers, truncated, error, created_at, updated_at';
