// A variant for the overhead benchmark that separates auditspan's costs: everything register()
// does — body capture, setAuditContext, mapping and redaction of every span — with a store
// object that discards the rows. A store object keeps the pipeline on the app's thread
// (AuditSpanProcessor), so this is the in-thread pipeline without any database work.
const { register } = require('../../dist/instrumentation');

register({
  store: { insertBatch: async (records) => ({ inserted: records.length, duplicates: 0 }), close: async () => {} },
  forwardUrl: false,
});
