// The API the overhead benchmark loads: a small express service with a JSON read, a JSON
// write and a validation failure, run bare, under plain OpenTelemetry, and under auditspan.
const express = require('express');

let setAuditContext = () => {};
if (process.env.BENCH_AUDIT_CONTEXT === '1') ({ setAuditContext } = require('../../dist'));

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use((req, res, next) => {
  setAuditContext({ tokenName: 'prod-billing', clientId: 'billing-svc', companyId: 'acme' });
  next();
});
app.get('/v1/customers/:id', (req, res) => {
  res.json({ id: req.params.id, object: 'customer', email: 'jane@example.com', balance: 1200, currency: 'eur' });
});
app.post('/v1/charges', express.json(), (req, res) => {
  if (!(req.body.amount > 0)) return res.status(422).json({ error: { message: 'amount must be a positive integer' } });
  res.status(201).json({ id: 'ch_1', amount: req.body.amount, status: 'succeeded' });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close());
