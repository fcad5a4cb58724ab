/**
 * npm run gen:oracle-corpus: (re)writes test/oracle/corpus/*.pin from
 * tools/oracle_corpus.ts, removing files the generator no longer makes.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { corpusScenarios, renderScenario } from "./oracle_corpus.js";

const dir = process.argv[2] ?? "test/oracle/corpus";
mkdirSync(dir, { recursive: true });
const made = new Set<string>();
let failed = 0;
for (const s of corpusScenarios()) {
  try {
    writeFileSync(join(dir, `${s.name}.pin`), renderScenario(s));
    made.add(`${s.name}.pin`);
  } catch (e) {
    failed++;
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  }
}
for (const f of readdirSync(dir)) if (f.endsWith(".pin") && !made.has(f)) rmSync(join(dir, f));
process.stdout.write(`${made.size} scenarios written to ${dir}${failed ? `, ${failed} failed` : ""}\n`);
process.exitCode = failed ? 1 : 0;
