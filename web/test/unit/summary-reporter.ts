// Prints the run's totals as node --test's TAP summary lines (`# pass N`, `# fail N`), which the Makefile's
// `test` target adds up with every other suite's.

import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let pass = 0;
    let fail = errors.length;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") pass++;
        else if (state === "failed") fail++;
      }
      // A file that failed to load has no tests to count, but it is a failure.
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) fail++;
    }
    // A line of its own whatever the reporter above left unfinished.
    process.stdout.write(`\n# pass ${pass}\n# fail ${fail}\n`);
  }
}
