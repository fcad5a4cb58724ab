/**
 * The examples/ corpus is a set of contracts: every scenario passes on the
 * model (each expectation, assert and hazard assert holds), tells its story
 * in a header comment that names its kernel function and its source, is
 * listed in examples/README.md, and `pinlab test examples` reports it "ok".
 * A failure here means the model changed behaviour (fix the model, or the
 * example if the kernel really does something else) or an example was added
 * without its header or index line.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cli, type CliIo } from "../../src/cli/cli.js";
import { SHOWCASE } from "../../src/cli/demo.js";
import { compile, run, type ScenarioResult } from "../../src/scenario/index.js";

const DIR = new URL("../../examples/", import.meta.url).pathname;
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".pin"))
  .sort();
const SOURCES = new Map(FILES.map((f) => [f, readFileSync(DIR + f, "utf8")]));
const INDEX = readFileSync(DIR + "README.md", "utf8");

/** The leading comment block of a scenario. */
function header(source: string): string[] {
  const out: string[] = [];
  for (const line of source.split("\n")) {
    if (!line.startsWith("#")) break;
    out.push(line);
  }
  return out;
}

/** What went wrong in a run, one line per failed step, for the assertion message. */
function failures(file: string, r: ScenarioResult): string[] {
  const out: string[] = [];
  for (const st of r.steps) {
    const where = `${file}:${st.line ?? "?"}: ${st.text}`;
    if (st.expect && !st.expect.met)
      out.push(`${where}: got ${st.result?.kind === "int" ? st.result.text : "?"}`);
    if (st.assert && !st.assert.met) out.push(`${where}: ${st.assert.detail}`);
    if (st.error) out.push(`${where}: ${st.error.code} ${st.error.message}`);
    if (st.status === "not-run") out.push(`${where}: not run`);
  }
  return out;
}

describe("examples/", () => {
  it("holds at least 20 scenarios", () => {
    expect(FILES.length).toBeGreaterThanOrEqual(20);
  });

  describe.each(FILES)("%s", (file) => {
    const source = SOURCES.get(file) ?? "";

    it("passes: every expectation, assert and hazard assert holds", () => {
      const checked = compile(source);
      expect(checked.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
      const r = run(checked);
      expect(failures(file, r)).toEqual([]);
      expect(r.passed).toBe(true);
      // every hazard that arises is one the scenario asserts (`pinlab test` fails otherwise)
      const asserted = new Set<string>(r.assertedHazards);
      expect(r.hazards.filter((h) => !asserted.has(h.hazard)).map((h) => `${h.hazard}: ${h.message}`)).toEqual([]);
    });

    it("opens with a story naming its kernel function and its source", () => {
      const h = header(source);
      expect(h.length, "a header comment of several lines").toBeGreaterThanOrEqual(8);
      const text = h.join("\n");
      expect(text).toMatch(/^# Kernel: .*\w+\(\)/m);
      expect(text).toMatch(/^# Source: \S/m);
      // a commit (12+ hex digits), a seed thread, a CVE, or the spec's live observations
      expect(text).toMatch(/\b[0-9a-f]{12}\b|seed 00\d|CVE-\d{4}-\d+|gup-semantics\.md/);
    });

    it("has a title, states its outcome and says which hazards it expects", () => {
      expect(source).toMatch(/^scenario "[^"]+"$/m);
      expect(source).toMatch(/ = |^assert /m);
      expect(source).toMatch(/^assert (no hazards\s*(#.*)?$|no hazard \w|hazard \w)/m);
    });

    it("is named pattern_ingredients_outcome and listed in examples/README.md", () => {
      expect(file).toMatch(/^[a-z0-9-]+(_[a-z0-9-]+)*\.pin$/);
      expect(INDEX).toContain(`[${file}](${file})`);
    });
  });

  it("the index lists no file that does not exist", () => {
    const listed = [...INDEX.matchAll(/\]\(([^)]+\.pin)\)/g)].map((m) => m[1]);
    expect(listed.filter((f) => !SOURCES.has(f))).toEqual([]);
  });

  it("the seeds' cases are all there", () => {
    const all = [...SOURCES.values()].join("\n");
    for (const seed of ["seed 000", "seed 001", "seed 002", "seed 003", "seed 004"])
      expect(all, seed).toContain(seed);
  });

  it("the demo's showcase exists in examples/ and is starred in the index", () => {
    for (const f of SHOWCASE) {
      expect(SOURCES.has(f), f).toBe(true);
      expect(INDEX).toContain(`★ [${f}](${f})`);
    }
  });
});

describe("pinlab test examples", () => {
  const out: string[] = [];
  const io: CliIo = {
    stdout: (s) => out.push(s),
    stderr: (s) => out.push(s),
    readFile: (p) => readFileSync(p, "utf8"),
    isDirectory: (p) => p === DIR,
    walk: () => FILES.map((f) => DIR + f),
  };

  it("reports every example ok in KTAP and exits 0", () => {
    const status = cli(["test", DIR], io);
    const ktap = out.join("");
    const lines = ktap.split("\n");
    expect(lines.slice(0, 2)).toEqual(["TAP version 13", `1..${FILES.length}`]);
    expect(lines.filter((l) => l.startsWith("not ok"))).toEqual([]);
    expect(lines.filter((l) => /^ok \d+ - /.test(l))).toHaveLength(FILES.length);
    expect(ktap).toContain(`# Totals: pass:${FILES.length} fail:0`);
    expect(status).toBe(0);
  });
});
