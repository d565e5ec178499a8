// Reads vitest's JSON report: prints the totals as one plain line, and fails when a test that needs
// Chromium, Redis or llama.cpp was skipped, since under CI those must really run. llama.cpp tests live
// in llama-cpp.test.ts files and their names begin with "llama:".
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`ci: no test report at ${file} (${err.message})`);
  process.exit(1);
}
const needsRealParts = /(browser|chromium|redis|worker-queue|llama-cpp|\bllama:)/i;
let passed = 0;
let failed = 0;
let skipped = 0;
const wronglySkipped = [];
for (const suite of report.testResults ?? []) {
  for (const t of suite.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else {
      skipped++;
      if (needsRealParts.test(suite.name) || needsRealParts.test(t.fullName ?? '')) wronglySkipped.push(`${suite.name}: ${t.fullName}`);
    }
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) {
  console.error('ci: no test passed');
  process.exit(1);
}
if (wronglySkipped.length > 0) {
  console.error('ci: tests that need Chromium, Redis or llama.cpp were skipped:');
  for (const s of wronglySkipped) console.error(`  ${s}`);
  process.exit(1);
}
