/** The OpenAPI 3.1 description of the query API, served at /api/openapi.json. */
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });

const filterParams = [
  { name: 'from', in: 'query', description: 'Inclusive start: ISO 8601 or epoch milliseconds (UTC).', schema: { type: 'string' } },
  { name: 'to', in: 'query', description: 'Exclusive end: ISO 8601 or epoch milliseconds (UTC).', schema: { type: 'string' } },
  { name: 'endpoint', in: 'query', description: 'Route template; repeatable.', schema: { type: 'array', items: { type: 'string' } }, explode: true },
  { name: 'method', in: 'query', description: 'Comma-separated HTTP methods.', schema: { type: 'string', examples: ['GET,POST'] } },
  { name: 'status', in: 'query', description: 'Comma-separated status classes (2xx…5xx) or exact codes.', schema: { type: 'string', examples: ['5xx,429'] } },
  { name: 'token', in: 'query', description: 'API token name; repeatable.', schema: { type: 'array', items: { type: 'string' } }, explode: true },
  { name: 'q', in: 'query', description: 'Text in the URL or the error message (case-insensitive).', schema: { type: 'string', maxLength: 200 } },
  { name: 'minLatencyMs', in: 'query', schema: { type: 'number', minimum: 0 } },
  { name: 'maxLatencyMs', in: 'query', schema: { type: 'number', minimum: 0 } },
  { name: 'company', in: 'query', description: 'Admin keys only: narrow to one company. Ignored for viewer keys (always their own).', schema: { type: 'string' } },
];

const summaryProps = {
  id: { type: 'string', description: '`<start µs since 1970>-<spanId>`; ids of the first format, `<traceId>-<spanId>`, resolve for rows stored before it changed' },
  timestamp: { type: 'string', format: 'date-time' },
  method: { type: 'string' },
  endpoint: { type: 'string' },
  url: { type: 'string' },
  status: { type: 'integer', description: 'HTTP status the client got; 499 when the client closed the connection before the response was complete (class 4xx).' },
  latencyMs: { type: 'number' },
  tokenName: nullable('string'),
  error: nullable('string'),
};

const classCounts = { '1xx': { type: 'integer' }, '2xx': { type: 'integer' }, '3xx': { type: 'integer' }, '4xx': { type: 'integer' }, '5xx': { type: 'integer' } };

export const SCHEMAS = {
  Error: {
    type: 'object', required: ['error'],
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, param: { type: 'string' } } } },
  },
  LogSummary: { type: 'object', required: Object.keys(summaryProps), properties: summaryProps },
  LogDetail: {
    type: 'object',
    required: [...Object.keys(summaryProps), 'requestPayload', 'responsePayload', 'clientIp', 'userAgent', 'clientId', 'companyId', 'service', 'traceId', 'spanId', 'requestHeaders', 'truncated', 'createdAt', 'updatedAt'],
    properties: {
      ...summaryProps,
      requestPayload: nullable('string'), responsePayload: nullable('string', { description: 'Kept for failures only: status >= 400 (none for 1xx, 2xx and 3xx). Redacted and capped like requestPayload.' }), clientIp: nullable('string'), userAgent: nullable('string'),
      clientId: nullable('string'), companyId: nullable('string'), service: nullable('string'), traceId: { type: 'string' }, spanId: { type: 'string' },
      requestHeaders: { type: ['object', 'null'], additionalProperties: { type: 'string' } }, truncated: { type: 'boolean' },
      createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  LogPage: {
    type: 'object', required: ['data', 'nextCursor'],
    properties: { data: { type: 'array', items: { $ref: '#/components/schemas/LogSummary' } }, nextCursor: nullable('string') },
  },
  Stats: {
    type: 'object', required: ['total', 'byStatusClass', 'errorRate', 'latency', 'bucketMs', 'series', 'endpoints'],
    properties: {
      total: { type: 'integer' },
      byStatusClass: { type: 'object', required: Object.keys(classCounts), properties: classCounts },
      errorRate: { type: 'number' },
      latency: { type: 'object', required: ['p50', 'p95', 'p99'], properties: { p50: nullable('number'), p95: nullable('number'), p99: nullable('number') } },
      bucketMs: { type: 'integer' },
      series: {
        type: 'array',
        items: { type: 'object', required: ['t', 'total', 'p50', 'p95', ...Object.keys(classCounts)], properties: { t: { type: 'string', format: 'date-time' }, total: { type: 'integer' }, p50: nullable('number'), p95: nullable('number'), ...classCounts } },
      },
      endpoints: {
        type: 'array',
        items: { type: 'object', required: ['endpoint', 'count', 'errorRate', 'p95'], properties: { endpoint: { type: 'string' }, count: { type: 'integer' }, errorRate: { type: 'number' }, p95: nullable('number') } },
      },
    },
  },
  Facets: {
    type: 'object', required: ['endpoints', 'tokens', 'methods', 'statuses'],
    properties: {
      endpoints: { type: 'array', items: { type: 'string' } }, tokens: { type: 'array', items: { type: 'string' } },
      methods: { type: 'array', items: { type: 'string' } }, statuses: { type: 'array', items: { type: 'integer' } },
    },
  },
  Whoami: { type: 'object', required: ['name', 'companyId', 'admin'], properties: { name: { type: 'string' }, companyId: nullable('string'), admin: { type: 'boolean' } } },
  ViewLinkRequest: {
    type: 'object', required: ['companyId', 'ttlSeconds'],
    properties: { companyId: { type: 'string' }, ttlSeconds: { type: 'integer', minimum: 60, maximum: 31_622_400 } },
  },
  ViewLink: {
    type: 'object', required: ['url', 'expiresAt'],
    properties: { url: { type: 'string', description: '<public URL>/view#link=asl1.… — the token is in the fragment only' }, expiresAt: { type: 'string', format: 'date-time' } },
  },
  Branding: { type: 'object', required: ['title', 'logoUrl', 'accentColor'], properties: { title: nullable('string'), logoUrl: nullable('string'), accentColor: nullable('string') } },
} as const;

const json = (ref: string) => ({ content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const errors = {
  400: { description: 'Invalid parameter', ...json('Error') },
  401: { description: 'Missing, unknown or revoked key', ...json('Error') },
  429: { description: 'Too many failed authentication attempts', ...json('Error') },
  503: { description: 'Database unavailable', ...json('Error') },
};

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'auditspan query API', version, description: 'API request audit log. Every route is scoped to the company of the key.' },
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: SCHEMAS },
    paths: {
      '/api/logs': {
        get: {
          summary: 'Logs, newest first, keyset-paginated',
          parameters: [...filterParams, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }, { name: 'cursor', in: 'query', description: '`nextCursor` of the previous page', schema: { type: 'string' } }],
          responses: { 200: { description: 'A page of logs', ...json('LogPage') }, ...errors },
        },
      },
      '/api/logs/{id}': {
        get: {
          summary: 'One log in full (the view is recorded)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'The log', ...json('LogDetail') }, 404: { description: 'No such log in your scope', ...json('Error') }, ...errors },
        },
      },
      '/api/stats': {
        get: {
          summary: 'Totals, latency percentiles, time series and per-endpoint figures',
          parameters: [...filterParams, { name: 'bucket', in: 'query', description: '1m, 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1d, 7d or milliseconds', schema: { type: 'string' } }],
          responses: { 200: { description: 'Stats', ...json('Stats') }, ...errors },
        },
      },
      '/api/facets': { get: { summary: 'Values present, for filter dropdowns', parameters: filterParams, responses: { 200: { description: 'Facets', ...json('Facets') }, ...errors } } },
      '/api/export': {
        get: {
          summary: 'Every matching log, streamed',
          parameters: [...filterParams, { name: 'format', in: 'query', schema: { type: 'string', enum: ['csv', 'ndjson'], default: 'ndjson' } }],
          responses: { 200: { description: 'CSV or NDJSON of LogDetail rows', content: { 'text/csv': {}, 'application/x-ndjson': {} } }, ...errors },
        },
      },
      '/api/whoami': { get: { summary: 'The key in use and its scope', responses: { 200: { description: 'Principal', ...json('Whoami') }, ...errors } } },
      '/api/links': {
        post: {
          summary: 'Mint a signed, expiring view link for one company (admin key only). The link\'s token is a bearer credential scoped like a viewer key; an expired one is answered 401 with code link_expired.',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ViewLinkRequest' } } } },
          responses: { 201: { description: 'The link', ...json('ViewLink') }, 403: { description: 'Not the admin key', ...json('Error') }, ...errors },
        },
      },
      '/api/branding': { get: { security: [], summary: 'Title, logo and accent colour of customer views (settings)', responses: { 200: { description: 'Branding', ...json('Branding') } } } },
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { 200: { description: 'ok' } } } },
      '/readyz': { get: { security: [], summary: 'Readiness: the database answers', responses: { 200: { description: 'ready' }, 503: { description: 'database unavailable' } } } },
    },
  };
}
