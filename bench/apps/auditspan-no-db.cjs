// A variant for the overhead benchmark that separates auditspan's costs: everything register()
// does — body capture, setAuditContext, mapping and redaction of every span — but a store that
// discards the rows, so that no database work is measured.
const { register } = require('../../dist/instrumentation');

register({
  store: { insertBatch: async (records) => ({ inserted: records.length, duplicates: 0 }), close: async () => {} },
  forwardUrl: false,
});
