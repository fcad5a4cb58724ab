/**
 * The runner on what the model supports today (anonymous memory: mmap,
 * memset/store/load, fork, munmap, mprotect, madvise, mlock): expectations
 * met and unmet, asserts, events with their kernel rules, limits, hazards
 * through the detector interface, determinism.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { HazardDetector } from "../../src/observe/hazard.js";
import { compile, run, type RunOptions, type ScenarioResult } from "../../src/scenario/index.js";

const ANON = new URL("./fixtures/anon/", import.meta.url).pathname;
const FILES = new URL("./fixtures/files/", import.meta.url).pathname;
const DESIGN = new URL("./fixtures/design/", import.meta.url).pathname;
const P = "process A\nA: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n";

function runSrc(src: string, opts: RunOptions = {}): ScenarioResult {
  const c = compile(src);
  expect(c.diagnostics).toEqual([]);
  return run(c, opts);
}

describe("scenarios on what the model implements pass", () => {
  for (const f of [
    ...readdirSync(ANON).map((x) => ANON + x),
    ...readdirSync(FILES).map((x) => FILES + x),
  ].filter((x) => x.endsWith(".pin")))
    it(f.slice(f.indexOf("fixtures/")), () => {
      const r = runSrc(readFileSync(f, "utf8"));
      const bad = r.steps
        .filter((s) => s.status !== "ok")
        .map((s) => `${s.line}: ${s.text} ${JSON.stringify(s.expect ?? s.assert ?? s.error)}`);
      expect(bad).toEqual([]);
      expect(r.passed).toBe(true);
    });
});

describe("expectations", () => {
  it("a met expectation is ok; an unmet one fails the step and the run goes on", () => {
    const r = runSrc(P + "A: munmap(buf, 4K) = -EINVAL\nA: store(buf, 1) = -EFAULT\nA: load(buf) = ok");
    expect(
      r.steps.map((s) => [s.text, s.status, s.result?.kind === "int" ? s.result.text : null, s.expect?.met]),
    ).toEqual([
      ["process A", "ok", "1", undefined],
      [
        "A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
        "ok",
        "0x7efffffff000",
        undefined,
      ],
      ["A: munmap(buf, 4K) = -EINVAL", "failed", "0", false],
      ["A: store(buf, 1) = -EFAULT", "ok", "-EFAULT", true],
      ["A: load(buf) = ok", "failed", "-EFAULT", false],
    ]);
    expect(r.passed).toBe(false);
    expect(r.summary).toEqual({
      steps: 5,
      expectations: 3,
      expectationsFailed: 2,
      asserts: 0,
      assertsFailed: 0,
      errors: 0,
      notRun: 0,
      hazards: 0,
      hazardsUnexpected: 0,
    });
  });
  it("`= ok` accepts any result ≥ 0, including addresses", () => {
    const r = runSrc("process A\nA: b = mmap(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok");
    expect(r.steps[1].expect).toEqual({ expected: "ok", met: true });
  });
  it("an expectation may be any expression, evaluated when the step ran", () => {
    const r = runSrc(P + "A: store(buf, 0x42) = 0\nA: v = load(buf) = 0x40 + 2\nA: w = load(buf) = v");
    expect(r.steps.slice(3).map((s) => s.expect)).toEqual([
      { expected: "0x40 + 2", met: true },
      { expected: "v", met: true },
    ]);
  });
});

describe("asserts", () => {
  it("record whether they held and the values compared", () => {
    const r = runSrc(
      P +
        "A: store(buf, 0x11) = 0\nassert load(A, buf) == 0x11\nassert load(A, buf) == 0x12\nassert zone(A, buf) != MOVABLE",
    );
    expect(r.steps.slice(3).map((s) => s.assert)).toEqual([
      { met: true, detail: "load(A, buf) is 0x11; == 0x11" },
      { met: false, detail: "load(A, buf) is 0x11; expected == 0x12" },
      { met: true, detail: "zone(A, buf) is DMA32; != MOVABLE" },
    ]);
    expect(r.passed).toBe(false);
  });
  it("observers do not fault: load() of an untouched anonymous page reads 0 and maps nothing", () => {
    const r = runSrc(P + "assert load(A, buf) == 0\nassert !mapped(A, buf)\nassert zone(A, buf) != NORMAL");
    expect(r.steps.slice(2).map((s) => s.assert?.met)).toEqual([true, true, true]);
    expect(r.steps.slice(2).every((s) => s.events.length === 0)).toBe(true);
  });
  it("bindings are visible across processes", () => {
    const r = runSrc(
      P +
        "A: B = fork()\nB: other = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\nB: store(buf, 1) = 0\nA: store(other, 1) = -EFAULT",
    );
    expect(r.passed).toBe(true);
  });
});

describe("events", () => {
  it("each step records the kernel events it caused, with the rule that decided each", () => {
    const r = runSrc(P + "A: store(buf, 1)\nA: B = fork()\nA: store(buf, 2)");
    const names = r.steps.map((s) => s.events.map((e) => `${e.name} [${e.where}]`));
    expect(names).toEqual([
      [],
      ["mmap [mm/mmap.c: do_mmap()]"],
      ["fault_anon [mm/memory.c: do_anonymous_page()]"],
      ["fork [kernel/fork.c: dup_mmap()]"],
      ["cow_copy [mm/memory.c: wp_page_copy()]"],
    ]);
  });
  it("events beyond the per-step cap are counted, not kept", () => {
    const src =
      "process A\nA: b = mmap(NULL, 64K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\nA: memset(b, 1, 64K)";
    const r = runSrc(src, { maxEventsPerStep: 4 });
    expect([r.steps[2].events.length, r.steps[2].eventsDropped]).toEqual([4, 12]);
  });
});

describe("errors stop the run", () => {
  it("a run-time error stops the run; later steps are not run", () => {
    const r = runSrc(
      P +
        "A: mprotect(buf, 4K, PROT_READ)\nkernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = -EFAULT\ndev: dma_read(p)\nA: store(buf, 1) = 0\nassert no hazards",
    );
    expect(r.steps.map((s) => s.status)).toEqual(["ok", "ok", "ok", "ok", "error", "not-run", "not-run"]);
    expect(r.steps[4].error?.code).toBe("PL506");
    expect(r.passed).toBe(false);
    expect(r.summary.notRun).toBe(2);
  });
  it("the step limit bounds a run", () => {
    const r = runSrc(P + "A: store(buf, 1)\nA: store(buf, 2)", { maxSteps: 3 });
    expect(r.steps.map((s) => s.status)).toEqual(["ok", "ok", "ok", "error"]);
    expect(r.steps[3].error?.code).toBe("PL503");
  });
  it("a scenario with check errors is refused", () => {
    const r = run(compile("A: x()"));
    expect(r.diagnostics.map((d) => d.code)).toEqual(["PL599"]);
    expect(r.steps).toEqual([]);
  });
});

describe("machine and processes", () => {
  it("the machine line configures the Machine", () => {
    const r = runSrc("machine memory=1G movable=512M thp=never hugetlb.2M=4 seed=9\nprocess A");
    expect(r.machine).toMatchObject({
      memory: 2 ** 30,
      movable: 2 ** 29,
      thp: "never",
      hugetlb2M: 4,
      seed: 9,
    });
    expect(r.seed).toBe(9);
  });
  it("--seed overrides the scenario's seed", () => {
    expect(runSrc("machine seed=9\nprocess A", { seed: 3 }).seed).toBe(3);
  });
  it("kconfig switches reach the kernel", () => {
    expect(runSrc("machine kconfig.CMA=off\nprocess A").machine?.kconfig.CMA).toBe(false);
  });
});

describe("hazards, through the detector interface", () => {
  // a stand-in detector: every SIGSEGV is a "warn" (real detectors live in src/observe)
  const segvIsWarn = (): HazardDetector => ({
    hazard: "warn",
    watches: ["sigsegv"],
    onEvent(ev, ctx) {
      if (ev.name === "sigsegv")
        ctx.report({ pfns: [], provenance: [], rule: ev.where, message: "user fault" });
    },
  });
  it("`assert no hazards` passes when no detector reported anything", () => {
    expect(runSrc(P + "A: store(buf, 1)\nassert no hazards").passed).toBe(true);
  });
  it("a detector's finding carries its hazard and step, and asserts see it", () => {
    const src =
      P +
      "A: munmap(buf, 4K)\nassert no hazard warn\nA: store(buf, 1)\nassert hazard warn\nassert no hazards";
    const r = runSrc(src, { detectors: [segvIsWarn] });
    expect(r.hazards).toEqual([
      {
        hazard: "warn",
        step: 5,
        line: 5,
        pfns: [],
        provenance: [],
        rule: "arch/x86/mm/fault.c: do_user_addr_fault()",
        message: "user fault",
      },
    ]);
    expect(r.steps.slice(3).map((s) => s.assert?.met ?? null)).toEqual([true, null, true, false]);
  });
  it("without a detector for it, `assert hazard X` fails and says why", () => {
    const r = runSrc("assert hazard lost_write", { detectors: [] });
    expect(r.steps[0].assert).toEqual({
      met: false,
      detail: "no lost_write found (no detector for it is installed)",
    });
    expect(runSrc("assert hazard lost_write").steps[0].assert?.detail).toBe("no lost_write found");
  });
});

describe("determinism", () => {
  it("the same scenario and seed give byte-identical JSON", () => {
    for (const f of ["fork_cow.pin", "thp_madvise.pin", "zone_movable.pin"]) {
      const src = readFileSync(ANON + f, "utf8");
      expect(JSON.stringify(runSrc(src, { seed: 5 }))).toBe(JSON.stringify(runSrc(src, { seed: 5 })));
    }
  });
  it("DESIGN.md examples run without a JS exception or a run-time error", () => {
    for (const f of readdirSync(DESIGN).filter((x) => x.endsWith(".pin"))) {
      const r = runSrc(readFileSync(DESIGN + f, "utf8"));
      const errors = r.steps.filter((s) => s.status === "error").map((s) => s.error?.code);
      expect(errors, f).toEqual([]);
    }
  });
});
