// Adds up the JSON reports of vitest (unit, integration, deploy) and Playwright and
// prints one closing line, "N passed, N failed", plus one line per suite.
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];

function read(name) {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    lines.push(`${name}: no report (the suite did not run)`);
    failed += 1;
    return null;
  }
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

for (const name of ["unit.json", "integration.json", "integration-postgres.json", "deploy.json"]) {
  const r = read(name);
  if (!r) continue;
  const p = r.numPassedTests ?? 0;
  const f = (r.numFailedTests ?? 0) + (r.numRuntimeErrorTests ?? 0);
  const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (r.numTotalTests === 0) failed += 1;
  passed += p;
  failed += f;
  skipped += s;
  lines.push(`${name.replace(".json", "")}: ${p} passed, ${f} failed, ${s} skipped`);
}

for (const name of ["e2e.json", "e2e-postgres.json"]) {
  const e2e = read(name);
  if (!e2e) continue;
  const st = e2e.stats ?? {};
  const p = (st.expected ?? 0) + (st.flaky ?? 0);
  const f = st.unexpected ?? 0;
  const s = st.skipped ?? 0;
  if (p + f === 0) failed += 1;
  passed += p;
  failed += f;
  skipped += s;
  lines.push(`${name.replace(".json", "")}: ${p} passed, ${f} failed, ${s} skipped${st.flaky ? ` (${st.flaky} flaky)` : ""}`);
}

lines.push(`ran on Node ${process.version}`);
console.log(lines.join("\n"));
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
