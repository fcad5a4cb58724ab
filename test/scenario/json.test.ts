/** The JSON form: text → JSON → scenario round trips; programs build scenarios without text. */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  compile,
  compileJson,
  fromJson,
  parse,
  printProgram,
  type Program,
  run,
  toJson,
} from "../../src/scenario/index.js";

const FIXTURES = [
  ...readdirSync(new URL("./fixtures/design/", import.meta.url).pathname).map((f) => `design/${f}`),
  ...readdirSync(new URL("./fixtures/anon/", import.meta.url).pathname).map((f) => `anon/${f}`),
  ...readdirSync(new URL("./fixtures/files/", import.meta.url).pathname).map((f) => `files/${f}`),
].filter((f) => f.endsWith(".pin"));
const read = (f: string) => readFileSync(new URL(`./fixtures/${f}`, import.meta.url).pathname, "utf8");

describe("round trip", () => {
  for (const f of FIXTURES)
    it(`${f}: JSON text → fromJson gives back the same program and source map`, () => {
      const p = parse(read(f));
      const json = JSON.parse(JSON.stringify(toJson(p.program, p.sourceMap)));
      const back = fromJson(json);
      expect(back.diagnostics).toEqual([]);
      expect(back.program).toEqual(p.program);
      expect(back.sourceMap).toEqual(p.sourceMap);
    });
  it("a checked JSON scenario runs exactly like its text", () => {
    const src = read("anon/fork_cow.pin");
    const text = run(compile(src));
    const p = parse(src);
    const json = run(compileJson(JSON.parse(JSON.stringify(toJson(p.program, p.sourceMap)))));
    expect(JSON.stringify(json)).toBe(JSON.stringify(text));
  });
});

describe("built by a program", () => {
  // what a tool would write: no ids, no positions
  const built = {
    kind: "program",
    statements: [
      { kind: "scenario", title: "built" },
      { kind: "process", name: { kind: "name", name: "A" } },
      {
        kind: "step",
        actor: { kind: "name", name: "A" },
        binding: { kind: "name", name: "buf" },
        call: {
          kind: "call",
          callee: { kind: "name", name: "mmap" },
          args: [
            { kind: "name", name: "NULL" },
            { kind: "num", value: 4096, text: "4K" },
            {
              kind: "binary",
              op: "|",
              left: { kind: "name", name: "PROT_READ" },
              right: { kind: "name", name: "PROT_WRITE" },
            },
            {
              kind: "binary",
              op: "|",
              left: { kind: "name", name: "MAP_PRIVATE" },
              right: { kind: "name", name: "MAP_ANONYMOUS" },
            },
            { kind: "neg", operand: { kind: "num", value: 1 } },
            { kind: "num", value: 0 },
          ],
        },
        expect: { kind: "expect_ok" },
      },
      {
        kind: "assert",
        cond: {
          kind: "compare",
          op: "==",
          left: {
            kind: "call",
            callee: { kind: "name", name: "load" },
            args: [
              { kind: "name", name: "A" },
              { kind: "name", name: "buf" },
            ],
          },
          right: { kind: "num", value: 0 },
        },
      },
    ],
  };
  it("ids are assigned, positions are absent, and it checks and runs", () => {
    const c = compileJson(built);
    expect(c.diagnostics).toEqual([]);
    expect(c.sourceMap.size).toBe(0);
    const r = run(c);
    expect(r.passed).toBe(true);
    expect(r.steps.map((s) => s.text)).toEqual([
      "process A",
      "A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok",
      "assert load(A, buf) == 0",
    ]);
    expect(r.steps[0].line).toBeUndefined();
  });
  it("has a text form", () => {
    const p = fromJson(built).program as Program;
    expect(printProgram(p)).toBe(
      'scenario "built"\nprocess A\nA: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok\nassert load(A, buf) == 0\n',
    );
  });
  it("check errors in a JSON scenario have no position but name the node", () => {
    const bad = structuredClone(built);
    (bad.statements[2] as { call: { callee: { name: string } } }).call.callee.name = "mmapp";
    const [d] = compileJson(bad).diagnostics;
    expect([d.code, d.loc, typeof d.node]).toEqual(["PL103", undefined, "number"]);
  });
});

describe("validation", () => {
  it("reports every malformed node with its JSON path", () => {
    const c = compileJson({
      format: "pinlab-scenario",
      version: 2,
      program: {
        kind: "program",
        statements: [
          { kind: "process", name: { kind: "name", name: "not a name" } },
          { kind: "step", actor: { kind: "name", name: "A" }, call: { kind: "num", value: 1 } },
          {
            kind: "assert",
            cond: {
              kind: "compare",
              op: "=",
              left: { kind: "num", value: 1.5 },
              right: { kind: "num", value: 1, text: "2" },
            },
          },
          "process B",
        ],
      },
    });
    expect(c.diagnostics.map((d) => d.message)).toEqual([
      "invalid JSON scenario at $.version: expected 1",
      "invalid JSON scenario at $.program.statements[0].name.name: expected a name",
      'invalid JSON scenario at $.program.statements[1].call: expected a call node {kind: "call", callee, args}',
      "invalid JSON scenario at $.program.statements[2].cond.op: expected one of == != < <= > >=",
      "invalid JSON scenario at $.program.statements[2].cond.left.value: expected a safe integer",
      "invalid JSON scenario at $.program.statements[2].cond.right.text: expected the spelling of 1",
      "invalid JSON scenario at $.program.statements[3]: expected a statement node",
    ]);
  });
  it("never throws, whatever the value", () => {
    for (const v of [
      null,
      1,
      "x",
      [],
      {},
      { kind: "program" },
      { kind: "program", statements: [null, 1, {}] },
      { format: 1 },
    ])
      expect(() => compileJson(v)).not.toThrow();
  });
});
