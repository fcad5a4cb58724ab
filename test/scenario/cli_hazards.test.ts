/**
 * What `pinlab` says about hazards: the human report (each hazard with its
 * line, story, kernel rule and pins), --json (byte-identical for the same
 * file and seed), `pinlab test` failing on hazards a scenario does not
 * assert, and the progress bar (a terminal only; never CI or --json).
 */
import { describe, expect, it } from "vitest";
import { pinlab } from "./cli_io.js";

const LEAK = `scenario "a leaked long-term pin"
process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: memset(buf, 0x11, 4K) = 0
vfio: p = pin_user_pages_remote(A, buf, 1, FOLL_WRITE|FOLL_LONGTERM) = 1
`;
const LEAK_ASSERTED = LEAK + "assert hazard pin_leak\n";
const CLEAN = `scenario "released"
process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
vfio: p = pin_user_pages_remote(A, buf, 1, FOLL_WRITE) = 1
vfio: unpin_user_pages(p) = 0
assert no hazards
`;

describe("pinlab run: hazards", () => {
  it("lists each hazard after the steps: where it arose, what happened, the kernel rule, the pins", () => {
    const r = pinlab(["run", "--events", "0", "l.pin"], { "l.pin": LEAK });
    expect(r.status).toBe(0);
    expect(r.out.slice(r.out.indexOf("hazards:"))).toBe(
      [
        "hazards: 1",
        "  pin_leak at line 5 (step 4)  — not asserted by the scenario",
        "    pin 1 on 1 page of process A (pfn 0x400) is still held when the scenario ends: long-term pinned by vfio (pin_user_pages_remote FOLL_WRITE|FOLL_LONGTERM) of process A at line 5",
        "    rule: mm/gup.c: unpin_user_pages(): every FOLL_PIN pin must be released by the code that took it",
        "    pin 1: long-term pinned by vfio (pin_user_pages_remote FOLL_WRITE|FOLL_LONGTERM) of process A at line 5",
        "PASS: 4 steps, 3/3 expectations met, 1 hazard (1 not asserted)",
        "",
      ].join("\n"),
    );
    const asserted = pinlab(["run", "--events", "0", "l.pin"], { "l.pin": LEAK_ASSERTED });
    expect(asserted.out).toContain("  pin_leak at line 5 (step 4)\n");
    expect(asserted.out).toContain("PASS: 5 steps, 3/3 expectations met, 1/1 asserts held, 1 hazard\n");
  });
  it("--json carries the hazards with their provenance, byte-identical for the same file and seed", () => {
    const a = pinlab(["run", "--json", "--seed", "3", "l.pin"], { "l.pin": LEAK });
    const b = pinlab(["run", "--json", "--seed", "3", "l.pin"], { "l.pin": LEAK });
    expect(a.out).toBe(b.out);
    const doc = JSON.parse(a.out) as {
      result: {
        hazards: {
          hazard: string;
          step: number;
          line: number;
          provenance: { owner: string; line: number }[];
        }[];
        assertedHazards: string[];
        summary: { hazards: number; hazardsUnexpected: number };
        processes: { name: string; pid: number }[];
      };
    };
    expect(
      doc.result.hazards.map((h) => [h.hazard, h.step, h.line, h.provenance[0].owner, h.provenance[0].line]),
    ).toEqual([["pin_leak", 4, 5, "vfio", 5]]);
    expect(doc.result.assertedHazards).toEqual([]);
    expect(doc.result.summary).toMatchObject({ hazards: 1, hazardsUnexpected: 1 });
    expect(doc.result.processes).toEqual([{ name: "A", pid: 1, step: 1 }]);
  });
});

describe("pinlab test: hazards", () => {
  it("a hazard the scenario does not assert fails it, with the hazard's line and story", () => {
    const r = pinlab(["test", "t"], { "t/a.pin": LEAK, "t/b.pin": LEAK_ASSERTED, "t/c.pin": CLEAN });
    expect(r.status).toBe(1);
    expect(r.out).toBe(
      [
        "TAP version 13",
        "1..3",
        "not ok 1 - a leaked long-term pin",
        "# t/a.pin",
        "# t/a.pin:5: unexpected hazard pin_leak: pin 1 on 1 page of process A (pfn 0x400) is still held when the scenario ends: long-term pinned by vfio (pin_user_pages_remote FOLL_WRITE|FOLL_LONGTERM) of process A at line 5",
        "ok 2 - a leaked long-term pin",
        "ok 3 - released",
        "# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:0 error:0",
        "",
      ].join("\n"),
    );
  });
});

describe("progress bar", () => {
  const files = { "t/a.pin": CLEAN, "t/b.pin": CLEAN, "t/c.pin": CLEAN };
  it("is drawn on stderr when it is a terminal, and erased; stdout is unchanged", () => {
    const plain = pinlab(["test", "t"], files);
    const tty = pinlab(["test", "t"], files, { tty: true });
    expect(tty.out).toBe(plain.out);
    expect(plain.err).toBe("");
    expect(tty.err).toContain("] 1/3 t/a.pin");
    expect(tty.err).toContain("] 3/3 t/c.pin");
    expect(tty.err.endsWith("\r\x1b[2K")).toBe(true);
    const run = pinlab(["run", "t/a.pin", "t/b.pin"], files, { tty: true });
    expect(run.err).toContain("2/2 t/b.pin");
  });
  it("is never drawn in CI, with --json, for one file, or when stderr is not a terminal", () => {
    expect(pinlab(["test", "t"], files, { tty: true, env: { CI: "true" } }).err).toBe("");
    expect(pinlab(["run", "--json", "t/a.pin", "t/b.pin"], files, { tty: true }).err).toBe("");
    expect(pinlab(["run", "t/a.pin"], files, { tty: true }).err).toBe("");
    expect(pinlab(["run", "t/a.pin", "t/b.pin"], files).err).toBe("");
  });
});
