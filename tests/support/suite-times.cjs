// Mocha reporter: the spec reporter's output, plus each test file's wall time (first suite begun
// to last suite ended), appended as "seconds<TAB>name<TAB>tests<TAB>failures" lines to the file
// named by RECORDS_TIMES_FILE, so each tier can print where its time went (scripts/test-times).
'use strict';
const { appendFileSync } = require('node:fs');
const { relative } = require('node:path');
const Mocha = require('mocha');
const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_RUN_END } = Mocha.Runner.constants;

class SuiteTimes extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const files = new Map();
    const entry = (file) => {
      if (!files.has(file)) files.set(file, { begun: Date.now(), ended: Date.now(), tests: 0, failures: 0 });
      return files.get(file);
    };
    runner.on(EVENT_SUITE_BEGIN, (suite) => { if (suite.file) entry(suite.file); });
    runner.on(EVENT_SUITE_END, (suite) => { if (suite.file) entry(suite.file).ended = Date.now(); });
    runner.on(EVENT_TEST_PASS, (test) => { if (test.file) entry(test.file).tests += 1; });
    runner.on(EVENT_TEST_FAIL, (test) => {
      if (!test.file) return;
      entry(test.file).tests += 1;
      entry(test.file).failures += 1;
    });
    runner.once(EVENT_RUN_END, () => {
      const target = process.env.RECORDS_TIMES_FILE;
      if (!target) return;
      const lines = [...files].map(([file, { begun, ended, tests, failures }]) =>
        `${((ended - begun) / 1000).toFixed(1)}\t${relative(process.cwd(), file)}\t${tests}\t${failures}\n`);
      appendFileSync(target, lines.join(''));
    });
  }
}

module.exports = SuiteTimes;
