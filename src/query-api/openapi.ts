/** The OpenAPI 3.1 description of the query API, served at /api/openapi.json. */
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });

const filterParams = [
  { name: 'from', in: 'query', description: 'Inclusive start: ISO 8601 or epoch milliseconds (UTC).', schema: { type: 'string' } },
  { name: 'to', in: 'query', description: 'Exclusive end: ISO 8601 or epoch milliseconds (UTC).', schema: { type: 'string' } },
  { name: 'endpoint', in: 'query', description: 'Route template; repeatable.', schema: { type: 'array', items: { type: 'string' } }, explode: true },
  { name: 'method', in: 'query', description: 'Comma-separated HTTP methods.', schema: { type: 'string', examples: ['GET,POST'] } },
  { name: 'status', in: 'query', description: 'Comma-separated status classes (2xx…5xx) or exact codes.', schema: { type: 'string', examples: ['5xx,429'] } },
  { name: 'token', in: 'query', description: 'API token name; repeatable.', schema: { type: 'array', items: { type: 'string' } }, explode: true },
  { name: 'service', in: 'query', description: 'Service name (resource `service.name`); repeatable.', schema: { type: 'array', items: { type: 'string' } }, explode: true },
  {
    name: 'q', in: 'query',
    description:
      'Search; terms are AND-ed. Plain words (or "quoted phrases") match as case-insensitive substrings of the URL, the error message and the redacted request and response payloads. ' +
      'Prefixes find one request: `id:<log id>`, `traceId:<32 hex>`, `requestId:<x-request-id or x-correlation-id>`, `ip:<client IP>`, `clientId:…`, `company:…` (within the key\'s scope), `token:<token name>`, `text:…`. ' +
      'A bare log id or an `X-Request-Log-Url` link (`…/logs/<id>`) finds that log. An unknown prefix, a prefix without a value, a malformed id, an unterminated quote or a NUL character is a 400 naming the problem.',
    schema: { type: 'string', maxLength: 200, examples: ['traceId:4bf92f3577b34da6a3ce929d0e0e4736', 'requestId:req-42', 'ip:203.0.113.7 declined'] },
  },
  { name: 'minLatencyMs', in: 'query', schema: { type: 'number', minimum: 0 } },
  { name: 'maxLatencyMs', in: 'query', schema: { type: 'number', minimum: 0 } },
  { name: 'company', in: 'query', description: 'Admin keys only: narrow to one company. Ignored for viewer keys (always their own).', schema: { type: 'string' } },
];

const viewParams: Array<Record<string, unknown>> = [
  { name: 'from', in: 'query', description: 'Inclusive start of the view time: ISO 8601 or epoch milliseconds.', schema: { type: 'string' } },
  { name: 'to', in: 'query', description: 'Exclusive end.', schema: { type: 'string' } },
  { name: 'key', in: 'query', description: 'Key name; repeatable.', schema: { type: 'array', items: { type: 'string' } }, explode: true },
  { name: 'company', in: 'query', description: 'Company of the key that viewed.', schema: { type: 'string' } },
  { name: 'kind', in: 'query', description: '`view`, `export` or both, comma-separated.', schema: { type: 'string' } },
  { name: 'log', in: 'query', description: 'Views of this log id only.', schema: { type: 'string' } },
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
    type: 'object', required: ['endpoints', 'tokens', 'methods', 'statuses', 'services'],
    properties: {
      endpoints: { type: 'array', items: { type: 'string' } }, tokens: { type: 'array', items: { type: 'string' } },
      methods: { type: 'array', items: { type: 'string' } }, statuses: { type: 'array', items: { type: 'integer' } },
      services: { type: 'array', items: { type: 'string' } },
    },
  },
  EndpointList: {
    type: 'object', required: ['data', 'window'],
    properties: {
      data: {
        type: 'array',
        items: {
          type: 'object', required: ['endpoint', 'method', 'count', 'errorRate', 'p50', 'p95', 'p99', 'lastSeen', 'previous'],
          properties: {
            endpoint: { type: 'string' }, method: { type: 'string' }, count: { type: 'integer' }, errorRate: { type: 'number' },
            p50: nullable('number'), p95: nullable('number'), p99: nullable('number'), lastSeen: { type: 'string', format: 'date-time' },
            previous: {
              type: ['object', 'null'], required: ['count', 'errorRate', 'p95'],
              properties: { count: { type: 'integer' }, errorRate: nullable('number'), p95: nullable('number') },
            },
            sparkline: { type: 'array', items: { type: 'integer' }, description: 'Requests per equal slice of the window, oldest first (only with `from`); adds up to `count` (a whole rollup hour counts in the slice where it starts)' },
          },
        },
      },
      window: {
        type: ['object', 'null'], required: ['from', 'to', 'previousFrom'],
        properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, previousFrom: { type: 'string', format: 'date-time' } },
      },
    },
  },
  ViewPage: {
    type: 'object', required: ['data', 'nextCursor'],
    properties: {
      data: {
        type: 'array',
        items: {
          type: 'object', required: ['id', 'kind', 'logId', 'keyName', 'companyId', 'filters', 'viewedAt'],
          properties: {
            id: { type: 'integer' }, kind: { type: 'string', enum: ['view', 'export'] }, logId: nullable('string'), keyName: { type: 'string' },
            companyId: nullable('string'), filters: nullable('string'), viewedAt: { type: 'string', format: 'date-time' },
          },
        },
      },
      nextCursor: nullable('string'),
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
  DownloadRequest: {
    type: 'object', required: ['path'],
    properties: { path: { type: 'string', maxLength: 4000, description: 'The export to download: `/api/export?…` or (admin keys) `/api/views/export?…`, with its query; validated like the route itself.', examples: ['/api/export?format=csv&status=5xx'] } },
  },
  DownloadLink: {
    type: 'object', required: ['url', 'expiresAt'],
    properties: { url: { type: 'string', description: '/api/downloads/asd1.… — relative to the API\'s origin; follow it without a key, once, before expiresAt' }, expiresAt: { type: 'string', format: 'date-time', description: '60 seconds from now' } },
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
          description: 'Counts and error rates are exact. Without q and latency bounds the figures come from hourly and daily rollups; percentiles are then within 9.05 % of the exact value (docs/query-api.md).',
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
      '/api/endpoints': {
        get: {
          summary: 'Per endpoint and method: requests, error rate, p50/p95/p99 (from the rollups\' histograms, within 9.05 %, unless `q` or a latency bound is given), last seen, sparkline, and the previous window of the same length',
          parameters: [...filterParams, { name: 'sparkline', in: 'query', description: 'Sparkline slices per row (0–120, default 24; needs `from`)', schema: { type: 'integer', minimum: 0, maximum: 120 } }],
          responses: { 200: { description: 'Endpoints, busiest first', ...json('EndpointList') }, ...errors },
        },
      },
      '/api/views': {
        get: {
          summary: 'Admin keys only: who viewed which log or exported which filters, newest first',
          parameters: viewParams.concat([{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }, { name: 'cursor', in: 'query', description: '`nextCursor` of the previous page', schema: { type: 'string' } }]),
          responses: { 200: { description: 'A page of views and exports', ...json('ViewPage') }, 403: { description: 'Not an admin key', ...json('Error') }, ...errors },
        },
      },
      '/api/views/export': {
        get: {
          summary: 'Admin keys only: every matching view and export, streamed',
          parameters: viewParams.concat([{ name: 'format', in: 'query', schema: { type: 'string', enum: ['csv', 'ndjson'], default: 'ndjson' } }]),
          responses: { 200: { description: 'CSV or NDJSON of view records', content: { 'text/csv': {}, 'application/x-ndjson': {} } }, 403: { description: 'Not an admin key', ...json('Error') }, ...errors },
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
      '/api/downloads': {
        post: {
          summary: 'A one-time link (60 s) to an export, for a browser: following it needs no key and streams the file to disk. It carries the key\'s name and scope; the export is audited under that key.',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/DownloadRequest' } } } },
          responses: { 201: { description: 'The link', ...json('DownloadLink') }, 403: { description: '`/api/views/export` with a viewer key', ...json('Error') }, ...errors },
        },
      },
      '/api/downloads/{token}': {
        get: {
          security: [],
          summary: 'Follow a download link: the export it names, as `GET /api/export` (or `/api/views/export`) would answer its key',
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: { description: 'CSV or NDJSON, with Content-Disposition: attachment', content: { 'text/csv': {}, 'application/x-ndjson': {} } },
            404: { description: 'Not a download link (bad signature)', ...json('Error') },
            410: { description: 'Expired or already used (code download_expired)', ...json('Error') },
          },
        },
      },
      '/api/branding': { get: { security: [], summary: 'Title, logo and accent colour of customer views (settings)', responses: { 200: { description: 'Branding', ...json('Branding') } } } },
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { 200: { description: 'ok' } } } },
      '/readyz': { get: { security: [], summary: 'Readiness: the database answers', responses: { 200: { description: 'ready' }, 503: { description: 'database unavailable' } } } },
    },
  };
}
