/** The `pinlab` commands, run in-process over a fake file system. */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { pinlab } from "./cli_io.js";

const ANON_DIR = new URL("./fixtures/anon/", import.meta.url).pathname;

const GOOD = `scenario "good"
process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: store(buf, 0x11) = 0
assert load(A, buf) == 0x11
`;
const FAILING = `scenario "failing"
process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: munmap(buf, 4K) = -EINVAL
`;
const BAD = `process A
A: buf = mmapp(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
`;
const UNIMPLEMENTED = `scenario "a failed pin"
process A
kernel: p = pin_user_pages_fast(A, 0, 1, 0)
dev: dma_read(p)
`;
const anonFiles = Object.fromEntries(
  readdirSync(ANON_DIR)
    .filter((f) => f.endsWith(".pin"))
    .map((f) => [`anon/${f}`, readFileSync(ANON_DIR + f, "utf8")]),
);

describe("pinlab check", () => {
  it("ok files: one line each, exit 0", () => {
    expect(pinlab(["check", "g.pin"], { "g.pin": GOOD })).toEqual({
      status: 0,
      out: "g.pin: ok (5 statements)\n",
      err: "",
    });
  });
  it("bad input: every diagnostic with file:line:col and underline on stderr, exit 2", () => {
    const r = pinlab(["check", "b.pin", "g.pin"], { "b.pin": BAD, "g.pin": GOOD });
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      [
        "b.pin:2:10: error PL103: unknown call `mmapp`",
        "  2 | A: buf = mmapp(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
        "    |          ^^^^^",
        "  expected: a system call, kernel function or device access from the call table (docs/language.md)",
        "  help: did you mean `mmap`?",
        "",
      ].join("\n"),
    );
    expect(r.out).toBe("g.pin: ok (5 statements)\n");
  });
  it("--json prints the AST and source map; the JSON runs like the text", () => {
    const r = pinlab(["check", "--json", "g.pin"], { "g.pin": GOOD });
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.out) as {
      file: string;
      scenario: { format: string; program: { kind: string } };
      diagnostics: unknown[];
    };
    expect([doc.file, doc.scenario.format, doc.scenario.program.kind, doc.diagnostics]).toEqual([
      "g.pin",
      "pinlab-scenario",
      "program",
      [],
    ]);
    const fromText = pinlab(["run", "--json", "g.pin"], { "g.pin": GOOD });
    const fromJson = pinlab(["run", "--json", "g.json"], { "g.json": JSON.stringify(doc.scenario) });
    expect(JSON.parse(fromJson.out).result).toEqual(JSON.parse(fromText.out).result);
  });
  it("a missing file is bad input, without a stack trace", () => {
    const r = pinlab(["check", "nope.pin"]);
    expect(r.status).toBe(2);
    expect(r.err).toBe("pinlab: cannot read nope.pin: ENOENT: no such file or directory, open 'nope.pin'\n");
  });
  it("a .json file that is not JSON is bad input", () => {
    const r = pinlab(["check", "x.json"], { "x.json": "{" });
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/^pinlab: x.json: not JSON: /);
  });
});

describe("pinlab run", () => {
  it("prints each step, its result, ✓ for its expectation, its events with kernel rules, and PASS", () => {
    const r = pinlab(["run", "g.pin"], { "g.pin": GOOD });
    expect(r.status).toBe(0);
    expect(r.out).toBe(
      [
        'scenario "good"  (g.pin, seed 1)',
        "machine memory=4G movable=0 cma=0 thp=madvise",
        "",
        "   1  process A  → 1",
        "   2  A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)  → 0x7efffffff000",
        "        · mmap mm=1 start=0x7efffffff000 len=0x1000 vm_flags=0x100073  [mm/mmap.c: do_mmap()]",
        "   3  A: store(buf, 0x11) = 0  → 0 ✓",
        "        · fault_anon mm=1 addr=0x7efffffff000 pfn=0x400  [mm/memory.c: do_anonymous_page()]",
        "   4  assert load(A, buf) == 0x11 ✓  (load(A, buf) is 0x11; == 0x11)",
        "",
        "hazards: none",
        "PASS: 4 steps, 1/1 expectations met, 1/1 asserts held",
        "",
      ].join("\n"),
    );
  });
  it("a failed expectation: ✗ with what was expected, FAIL, exit 1", () => {
    const r = pinlab(["run", "f.pin"], { "f.pin": FAILING });
    expect(r.status).toBe(1);
    expect(r.out).toContain("   3  A: munmap(buf, 4K) = -EINVAL  → 0 ✗ expected -EINVAL\n");
    expect(r.out).toContain("FAIL: 3 steps, 0/1 expectations met\n");
  });
  it("a run-time error: the diagnostic under its step, the rest not run, exit 1", () => {
    const r = pinlab(["run", "u.pin"], { "u.pin": UNIMPLEMENTED + "A: exit(0)\n" });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/u\.pin:4:\d+: error PL506: dma_read: the handle holds no pages/);
    expect(r.out).toContain("   4  A: exit(0)  — not run\n");
  });
  it("check errors stop before running: exit 2", () => {
    const r = pinlab(["run", "b.pin"], { "b.pin": BAD });
    expect([r.status, r.out]).toEqual([2, ""]);
    expect(r.err).toContain("PL103");
  });
  it("--json: the same file and seed give byte-identical output; --seed changes the machine's seed", () => {
    const files = { "c.pin": anonFiles["anon/fork_cow.pin"] };
    const a = pinlab(["run", "--json", "--seed", "7", "c.pin"], files);
    const b = pinlab(["run", "--json", "--seed=7", "c.pin"], files);
    expect(a.out).toBe(b.out);
    const doc = JSON.parse(a.out) as {
      file: string;
      result: { seed: number; passed: boolean; steps: unknown[] };
    };
    expect([doc.file, doc.result.seed, doc.result.passed, doc.result.steps.length]).toEqual([
      "c.pin",
      7,
      true,
      19,
    ]);
  });
  it("--events bounds the events shown per step", () => {
    const src =
      "process A\nA: b = mmap(NULL, 16K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\nA: memset(b, 1, 16K)\n";
    const r = pinlab(["run", "--events", "1", "m.pin"], { "m.pin": src });
    expect(r.out).toContain("        · … 3 more events (--events all shows them)\n");
    expect(pinlab(["run", "--events", "all", "m.pin"], { "m.pin": src }).out).not.toContain("more events");
  });
  it("several files: several reports; --json gives an array", () => {
    const r = pinlab(["run", "--json", "g.pin", "f.pin"], { "g.pin": GOOD, "f.pin": FAILING });
    expect(r.status).toBe(1);
    expect((JSON.parse(r.out) as unknown[]).length).toBe(2);
  });
});

describe("pinlab test", () => {
  it("KTAP: header, plan, one line per scenario, exit 0 when all pass", () => {
    const r = pinlab(["test", "anon"], anonFiles);
    expect(r.status).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual(["TAP version 13", `1..${Object.keys(anonFiles).length}`]);
    expect(lines.filter((l) => l.startsWith("ok ")).length).toBe(Object.keys(anonFiles).length);
    expect(lines[lines.length - 1]).toBe(
      `# Totals: pass:${Object.keys(anonFiles).length} fail:0 xfail:0 xpass:0 skip:0 error:0`,
    );
  });
  it("failures are `not ok` with the reason as # lines, exit 1; bad input exits 2", () => {
    const r = pinlab(["test", "t"], {
      "t/a.pin": GOOD,
      "t/b.pin": FAILING,
      "t/c.pin": UNIMPLEMENTED,
      "t/notes.txt": "x",
    });
    expect(r.status).toBe(1);
    expect(r.out).toBe(
      [
        "TAP version 13",
        "1..3",
        "ok 1 - good",
        "not ok 2 - failing",
        "# t/b.pin",
        "# t/b.pin:4: A: munmap(buf, 4K) = -EINVAL: got 0",
        "not ok 3 - a failed pin",
        "# t/c.pin",
        "# t/c.pin:4: PL506: dma_read: the handle holds no pages (its call returned -EFAULT)",
        "# Totals: pass:1 fail:2 xfail:0 xpass:0 skip:0 error:0",
        "",
      ].join("\n"),
    );
    const bad = pinlab(["test", "t"], { "t/a.pin": GOOD, "t/z.pin": BAD });
    expect(bad.status).toBe(2);
    expect(bad.out).toContain(
      "not ok 2 - t/z.pin # bad input\n# t/z.pin:2:10: error PL103: unknown call `mmapp`\n",
    );
  });
});

describe("help and usage", () => {
  it("--help everywhere, with examples", () => {
    for (const argv of [
      ["--help"],
      ["help"],
      ["run", "--help"],
      ["check", "-h"],
      ["test", "--help"],
      ["help", "run"],
      ["demo", "--help"],
      ["explain", "--help"],
      ["help", "explain"],
    ]) {
      const r = pinlab(argv);
      expect(r.status, argv.join(" ")).toBe(0);
      expect(r.out).toMatch(/Usage:/);
    }
    for (const cmd of ["run", "check", "test", "explain", "demo"])
      expect(pinlab([cmd, "--help"]).out).toMatch(/Examples:\n {2}pinlab /);
    expect(pinlab(["--help"]).out).toMatch(/Examples:\n {2}npx pinlab /);
  });
  it("no command, an unknown command or option: usage on stderr, exit 2", () => {
    expect(pinlab([]).status).toBe(2);
    const u = pinlab(["frobnicate"]);
    expect([u.status, u.err.split("\n")[0]]).toEqual([2, "pinlab: unknown command 'frobnicate'"]);
    expect(pinlab(["tset", "x"]).err.split("\n")[0]).toBe(
      "pinlab: unknown command 'tset'; did you mean 'test'?",
    );
    const o = pinlab(["run", "--fast", "x.pin"]);
    expect([o.status, o.err.split("\n")[0]]).toEqual([2, "pinlab: unknown option --fast"]);
    expect(pinlab(["run", "--seed", "x", "a.pin"]).err.split("\n")[0]).toBe(
      "pinlab: --seed takes a whole number, not 'x'",
    );
    expect(pinlab(["run"]).status).toBe(2);
  });
  it("pinlab demo still works", () => {
    const r = pinlab(["demo"]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^pinlab demo/);
  });
});
