/**
 * What every detector shares (STYLE.md §3: detectors share one shape): one
 * module per hazard of HAZARDS, named after it, watching events the model
 * emits; the same scenario and seed give the same findings; a detector that
 * throws is caught by the watch and reported, never allowed to interrupt the model.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/kernel/machine.js";
import { DETECTOR_BY_HAZARD, DETECTORS } from "../../src/observe/detectors.js";
import { HAZARD_NAMES, type HazardDetector } from "../../src/observe/hazard.js";
import { RULE_TABLE } from "../../src/observe/rules.js";
import { HazardWatch } from "../../src/observe/watch.js";
import { runSrc } from "./helpers.js";

const SRC = new URL("../../src/observe/", import.meta.url).pathname;
const FIXTURES = ["anon", "files", "design"].map(
  (d) => new URL(`../scenario/fixtures/${d}/`, import.meta.url).pathname,
);
const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;

describe("the detectors", () => {
  it("are exactly the hazards of DESIGN.md, in order, one module each named after its hazard", () => {
    expect(DETECTORS.map((f) => f().hazard)).toEqual(HAZARD_NAMES);
    for (const h of HAZARD_NAMES) {
      expect(existsSync(`${SRC}${h}.ts`), h).toBe(true);
      expect(DETECTOR_BY_HAZARD[h].name).toBe(h);
      const text = readFileSync(`${SRC}${h}.ts`, "utf8");
      // the module header says what it watches, keeps and finds, and the rule behind it
      for (const part of ["Watches:", "Keeps:", "Finds", "Rule:"])
        expect(text, `${h}: ${part}`).toContain(part);
    }
  });
  it("watch only events the model emits", () => {
    const emitted = new Set(RULE_TABLE.flatMap((r) => r.events));
    for (const f of DETECTORS) {
      const d: HazardDetector = f();
      expect(d.watches.length, d.hazard).toBeGreaterThan(0);
      expect(
        d.watches.filter((w) => w !== "*" && !emitted.has(w)),
        d.hazard,
      ).toEqual([]);
    }
  });
  it("find the same hazards for the same scenario and seed, on every fixture and example", () => {
    const files = [...FIXTURES, ...(existsSync(EXAMPLES) ? [EXAMPLES] : [])].flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith(".pin"))
        .map((f) => d + f),
    );
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const src = readFileSync(f, "utf8");
      const a = runSrc(src, { seed: 7 });
      const b = runSrc(src, { seed: 7 });
      expect(JSON.stringify(b.hazards), f).toBe(JSON.stringify(a.hazards));
      expect(
        a.diagnostics.filter((d) => d.code === "PL599"),
        f,
      ).toEqual([]);
    }
  });
  it("a detector that throws is recorded by the watch and switched off; the model runs on", () => {
    const m = new Machine();
    const broken = (): HazardDetector => ({
      hazard: "warn",
      watches: ["*"],
      onEvent() {
        throw new TypeError("boom");
      },
    });
    const w = new HazardWatch(m, [broken, ...DETECTORS]);
    w.attach();
    const A = m.spawn("A");
    expect(m.mmap(A, 0, 4096, 3, 0x22, -1, 0)).toBeGreaterThan(0);
    expect(m.memset(A, 0x7efffffff000, 1, 4096)).toBe(0);
    expect(w.failures).toEqual(["detector warn threw TypeError: boom"]);
    const r = runSrc("process A\nA: b = mmap(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n", {
      detectors: [broken],
    });
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["PL599", "internal error in a hazard detector: detector warn threw TypeError: boom"],
    ]);
    expect(r.passed).toBe(false);
  });
});
