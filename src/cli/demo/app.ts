/**
 * The demo's sample API: a small payments-style service instrumented with
 * `node --import auditspan/register`. It answers with realistic successes and
 * failures, and its requests carry fake secrets that the audit log must redact.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { Readable } from 'node:stream';
import { setAuditContext } from '../../instrumentation';
import { DEMO_TOKENS } from './tokens';

const app = express();
app.disable('x-powered-by');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const jitter = (base: number, spread: number): number => base + Math.random() * spread;

// Authentication: the token secret selects a customer; only its *name* reaches the log.
app.use(async (req: Request, res: Response, next: NextFunction) => {
  await sleep(jitter(1, 4));
  const header = req.get('authorization') ?? '';
  const token = DEMO_TOKENS.find((t) => header === `Bearer ${t.secret}`);
  if (!token) {
    res.status(401).json({ error: { type: 'authentication_error', message: 'Invalid API key provided: check the Authorization header' } });
    return;
  }
  setAuditContext({ tokenName: token.tokenName, clientId: token.clientId, companyId: token.companyId });
  next();
});
app.use(express.json({ limit: '1mb' }));

app.get('/v1/customers', async (req, res) => {
  await sleep(jitter(8, 30));
  const limit = Math.min(Number(req.query.limit ?? 10) || 10, 100);
  res.json({ data: Array.from({ length: Math.min(limit, 3) }, (_, i) => ({ id: `cus_${1000 + i}`, name: `Customer ${i}` })), hasMore: limit > 3 });
});

app.get('/v1/customers/:id', async (req, res) => {
  await sleep(jitter(5, 20));
  if (req.params.id.endsWith('9')) {
    res.status(404).json({ error: { type: 'invalid_request_error', message: `No such customer: '${req.params.id}'` } });
    return;
  }
  res.json({ id: req.params.id, name: 'Jane Example', email: 'jane@example.com', phone: '+44 20 7946 0958' });
});

app.post('/v1/customers', async (req, res) => {
  await sleep(jitter(15, 40));
  const body = (req.body ?? {}) as { email?: string; name?: string };
  if (!body.email || !String(body.email).includes('@')) {
    res.status(422).json({ error: { type: 'validation_error', message: 'email is required and must be valid', param: 'email' } });
    return;
  }
  res.status(201).json({ id: `cus_${Math.floor(Math.random() * 1e6)}`, name: body.name ?? null });
});

app.delete('/v1/customers/:id', async (_req, res) => {
  await sleep(jitter(10, 20));
  if (Math.random() < 0.3) {
    res.status(403).json({ error: { type: 'permission_error', message: 'This key may not delete customers' } });
    return;
  }
  res.status(204).end();
});

app.post('/v1/charges', async (req, res) => {
  await sleep(jitter(60, 200));
  const body = (req.body ?? {}) as { amount?: number; card?: { number?: string } };
  const roll = Math.random();
  if (!body.amount || body.amount <= 0) {
    res.status(400).json({ error: { type: 'invalid_request_error', message: 'amount must be a positive integer', param: 'amount' } });
  } else if (roll < 0.12) {
    res.status(402).json({ error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } });
  } else if (roll < 0.16) {
    await sleep(jitter(400, 800));
    // A streamed error body, as a proxy or a framework might send it.
    res.status(502).type('application/json');
    Readable.from([JSON.stringify({ error: { type: 'api_error', message: 'Upstream acquirer timed out after 1200 ms' } })]).pipe(res);
  } else {
    res.status(201).json({ id: `ch_${Math.floor(Math.random() * 1e9)}`, amount: body.amount, status: 'succeeded' });
  }
});

app.get('/v1/invoices', async (_req, res) => {
  await sleep(jitter(20, 60));
  res.json({ data: [{ id: 'in_1', total: 1200 }, { id: 'in_2', total: 5400 }] });
});

app.get('/v1/invoices/:id', async (req, res) => {
  await sleep(jitter(10, 25));
  if (Math.random() < 0.05) {
    throw new Error(`invoice renderer crashed for ${req.params.id}`);
  }
  res.json({ id: req.params.id, total: 4200, currency: 'eur' });
});

app.post('/v1/refunds', async (_req, res) => {
  await sleep(jitter(30, 60));
  res.status(409).json({ error: { type: 'idempotency_error', message: 'A refund for this charge is already in progress' } });
});

app.use((_req: Request, res: Response) => {
  res.status(404).json({ error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } });
});

// eslint-disable-next-line @typescript-eslint/no-unused-vars
app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
  res.status(500).json({ error: { type: 'api_error', message: err.message } });
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => {
  process.send?.({ ready: true, port: (server.address() as { port: number }).port });
});
server.on('error', (err: NodeJS.ErrnoException) => {
  process.stderr.write(`demo app: cannot listen on ${host}:${port}: ${err.code ?? err.message}\n`);
  process.exit(1);
});
