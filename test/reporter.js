'use strict';
// Mocha reporter: the usual spec output, plus the run's real pass/fail counts
// written as JSON to $AUDITSPAN_TEST_SUMMARY (read by .ci/run for its last line).
const fs = require('node:fs');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_HOOK_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const counts = { passed: 0, failed: 0, pending: 0 };
    runner.on(EVENT_TEST_PASS, () => { counts.passed += 1; });
    // A failing hook counts as one failure: the tests it guards never ran.
    runner.on(EVENT_TEST_FAIL, () => { counts.failed += 1; });
    runner.on(EVENT_HOOK_END, () => {});
    runner.once(EVENT_RUN_END, () => {
      counts.pending = runner.stats ? runner.stats.pending : 0;
      const file = process.env.AUDITSPAN_TEST_SUMMARY;
      if (file) fs.writeFileSync(file, JSON.stringify(counts));
    });
  }
}

module.exports = SummaryReporter;
