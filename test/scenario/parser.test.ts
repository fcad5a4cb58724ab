/** The scenario parser: every statement kind, its AST shape and positions; the lexer's literals. */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Expr, Node, Program, Statement } from "../../src/scenario/ast.js";
import { children } from "../../src/scenario/ast.js";
import { lex } from "../../src/scenario/lexer.js";
import { parse } from "../../src/scenario/parser.js";
import { printProgram } from "../../src/scenario/print.js";

const FIXTURES = new URL("./fixtures/design/", import.meta.url).pathname;

/** The tree without ids and spellings: what a statement means. */
function shape(n: unknown): unknown {
  if (Array.isArray(n)) return n.map(shape);
  if (n && typeof n === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) if (k !== "id" && k !== "text") o[k] = shape(v);
    return o;
  }
  return n;
}

function one(src: string): Statement {
  const r = parse(src);
  expect(r.diagnostics).toEqual([]);
  expect(r.program.statements).toHaveLength(1);
  return r.program.statements[0];
}

const nm = (name: string) => ({ kind: "name", name });
const num = (value: number) => ({ kind: "num", value });

describe("statements", () => {
  it("scenario", () => {
    expect(shape(one('scenario "a \\"quoted\\" title"'))).toEqual({
      kind: "scenario",
      title: 'a "quoted" title',
    });
  });
  it("kernel glues its version into one word", () => {
    expect(shape(one("kernel linux-6.18   # the default"))).toEqual({
      kind: "kernel",
      version: nm("linux-6.18"),
    });
  });
  it("machine settings, with dotted keys and sizes", () => {
    expect(
      shape(one("machine memory=4G thp=madvise movable=0 cma=64M hugetlb.2M=16 kconfig.CMA=off")),
    ).toEqual({
      kind: "machine",
      settings: [
        { kind: "setting", key: nm("memory"), value: num(4 * 1024 ** 3) },
        { kind: "setting", key: nm("thp"), value: nm("madvise") },
        { kind: "setting", key: nm("movable"), value: num(0) },
        { kind: "setting", key: nm("cma"), value: num(64 * 1024 ** 2) },
        { kind: "setting", key: nm("hugetlb.2M"), value: num(16) },
        { kind: "setting", key: nm("kconfig.CMA"), value: nm("off") },
      ],
    });
  });
  it("mount", () => {
    expect(shape(one("mount ext4 /data"))).toEqual({
      kind: "mount",
      fs: nm("ext4"),
      path: { kind: "path", value: "/data" },
    });
  });
  it("process, with and without settings", () => {
    expect(shape(one("process A"))).toEqual({ kind: "process", name: nm("A"), settings: [] });
    expect(shape(one("process U uid=1000 memlock=64K caps=none"))).toEqual({
      kind: "process",
      name: nm("U"),
      settings: [
        { kind: "setting", key: nm("uid"), value: num(1000) },
        { kind: "setting", key: nm("memlock"), value: num(65536) },
        { kind: "setting", key: nm("caps"), value: nm("none") },
      ],
    });
  });
  it("a step: actor, binding, call, expectation", () => {
    expect(shape(one('A: fd = open("/data/f", O_RDWR|O_CREAT) = 3'))).toEqual({
      kind: "step",
      actor: nm("A"),
      binding: nm("fd"),
      call: {
        kind: "call",
        callee: nm("open"),
        args: [
          { kind: "str", value: "/data/f" },
          { kind: "binary", op: "|", left: nm("O_RDWR"), right: nm("O_CREAT") },
        ],
      },
      expect: { kind: "expect_value", value: num(3) },
    });
  });
  it("a step without binding or expectation; `= ok`; `= -ERRNO`", () => {
    expect(shape(one("A: memset(buf, 0xaa, 4K)"))).toMatchObject({ binding: null, expect: null });
    expect(shape(one("A: munmap(buf, 4K) = ok"))).toMatchObject({ expect: { kind: "expect_ok" } });
    expect(shape(one("A: io_uring_register_buffers(buf, 4K) = -EFAULT"))).toMatchObject({
      expect: { kind: "expect_value", value: { kind: "neg", operand: nm("EFAULT") } },
    });
  });
  it("kernel-side actors and paths as arguments", () => {
    expect(shape(one("kernel: writeback(/data/f)"))).toMatchObject({
      actor: nm("kernel"),
      call: { callee: nm("writeback"), args: [{ kind: "path", value: "/data/f" }] },
    });
    expect(shape(one("io_uring: x = compact()"))).toMatchObject({ actor: nm("io_uring"), binding: nm("x") });
  });
  it("an empty argument list", () => {
    expect(shape(one("A: B = fork()"))).toMatchObject({
      binding: nm("B"),
      call: { callee: nm("fork"), args: [] },
    });
  });
  it("asserts: comparisons, observers, hazards, negation", () => {
    expect(shape(one("assert load(A, buf) == 0x55"))).toEqual({
      kind: "assert",
      cond: {
        kind: "compare",
        op: "==",
        left: { kind: "call", callee: nm("load"), args: [nm("A"), nm("buf")] },
        right: num(0x55),
      },
    });
    for (const op of ["!=", "<", "<=", ">", ">="])
      expect(shape(one(`assert v ${op} 1`))).toMatchObject({ cond: { op } });
    expect(shape(one("assert hazard lost_write"))).toEqual({
      kind: "assert",
      cond: { kind: "hazard", hazard: nm("lost_write"), negated: false },
    });
    expect(shape(one("assert no hazard pin_leak"))).toMatchObject({
      cond: { kind: "hazard", negated: true },
    });
    expect(shape(one("assert no hazards"))).toEqual({ kind: "assert", cond: { kind: "no_hazards" } });
    expect(shape(one("assert anon_exclusive(A, buf)"))).toMatchObject({ cond: { kind: "truthy" } });
    expect(shape(one("assert !anon_exclusive(A, buf)"))).toMatchObject({
      cond: { kind: "not", operand: { kind: "truthy" } },
    });
  });
  it("blank lines and comments are not statements", () => {
    const r = parse("\n# a comment\n   \nprocess A # trailing\n\r\nprocess B");
    expect(r.diagnostics).toEqual([]);
    expect(r.program.statements.map((s) => s.kind)).toEqual(["process", "process"]);
  });
});

describe("expressions", () => {
  const expr = (src: string): Expr => {
    const s = one(`assert ${src} == 0`);
    if (s.kind !== "assert" || s.cond.kind !== "compare") throw new Error("not a compare");
    return s.cond.left;
  };
  it("address arithmetic is left-associative; | binds loosest", () => {
    expect(shape(expr("buf + 4K - 1"))).toEqual({
      kind: "binary",
      op: "-",
      left: { kind: "binary", op: "+", left: nm("buf"), right: num(4096) },
      right: num(1),
    });
    expect(shape(expr("A|B + 1"))).toEqual({
      kind: "binary",
      op: "|",
      left: nm("A"),
      right: { kind: "binary", op: "+", left: nm("B"), right: num(1) },
    });
    expect(shape(expr("(A|B) + 1"))).toMatchObject({ op: "+" });
  });
  it("negative numbers and errnos", () => {
    expect(shape(expr("-1"))).toEqual({ kind: "neg", operand: num(1) });
    expect(shape(expr("--1"))).toEqual({ kind: "neg", operand: { kind: "neg", operand: num(1) } });
  });
  it("NULL and names", () => {
    expect(shape(expr("NULL"))).toEqual(nm("NULL"));
  });
});

describe("lexer", () => {
  const nums = (src: string) =>
    lex(src)
      .tokens.filter((t) => t.kind === "num")
      .map((t) => t.num);
  it("sizes are binary, suffixes in either case", () => {
    expect(nums("4K 2M 1G 1T 4k 2m 0")).toEqual([4096, 2 ** 21, 2 ** 30, 2 ** 40, 4096, 2 ** 21, 0]);
  });
  it("hex, C octal and decimal", () => {
    expect(nums("0xaa 0XFF 0755 10 08x")).toEqual([0xaa, 0xff, 0o755, 10]);
  });
  it("a path runs to whitespace, comma, paren or comment", () => {
    const t = lex("writeback(/data/f.txt)#c").tokens.filter((x) => x.kind === "path");
    expect(t.map((x) => x.str)).toEqual(["/data/f.txt"]);
  });
  it("strings decode escapes", () => {
    expect(lex('"a\\nb\\t\\"c\\\\"').tokens[0].str).toBe('a\nb\t"c\\');
  });
  it("tokens carry 1-based line and column and whether space precedes them", () => {
    const t = lex("A: x\n  y").tokens;
    expect(t.map((x) => [x.kind, x.line, x.col, x.spaceBefore])).toEqual([
      ["ident", 1, 1, false],
      ["punct", 1, 2, false],
      ["ident", 1, 4, true],
      ["newline", 1, 5, false],
      ["ident", 2, 3, true],
      ["eof", 2, 4, false],
    ]);
  });
});

describe("positions", () => {
  it("every node has a position in the source map", () => {
    const src = readFileSync(FIXTURES + "03_io_uring_fork.pin", "utf8");
    const r = parse(src);
    const missing: string[] = [];
    const walk = (n: Node) => {
      if (!r.sourceMap.has(n.id)) missing.push(n.kind);
      children(n).forEach(walk);
    };
    walk(r.program);
    expect(missing).toEqual([]);
  });
  it("a node's span is exactly its text", () => {
    const src = "process A\nA: buf = mmap(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)  # c\n";
    const r = parse(src);
    const lines = src.split("\n");
    const text = (id: number) => {
      const l = r.sourceMap.get(id)!;
      return lines[l.line - 1].slice(l.col - 1, l.endCol - 1);
    };
    const s = r.program.statements[1];
    if (s.kind !== "step") throw new Error();
    expect(text(s.id)).toBe("A: buf = mmap(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
    expect(text(s.call.id)).toBe("mmap(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
    expect(text(s.call.args[3].id)).toBe("MAP_PRIVATE|MAP_ANONYMOUS");
    expect(text(s.binding!.id)).toBe("buf");
  });
  it("ids are unique", () => {
    const src = readFileSync(FIXTURES + "05_inline_snippets.pin", "utf8");
    const ids: number[] = [];
    const walk = (n: Node) => {
      ids.push(n.id);
      children(n).forEach(walk);
    };
    walk(parse(src).program);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("DESIGN.md examples, verbatim", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".pin"));
  it("there are fixtures", () => expect(files.length).toBeGreaterThanOrEqual(5));
  for (const f of files)
    it(`${f} parses without diagnostics and prints back to the same tree`, () => {
      const r = parse(readFileSync(FIXTURES + f, "utf8"));
      expect(r.diagnostics).toEqual([]);
      const again = parse(printProgram(r.program));
      expect(again.diagnostics).toEqual([]);
      expect(shape(again.program)).toEqual(shape(r.program));
    });
});

describe("error recovery", () => {
  it("a broken line does not stop the parse: the next lines still parse", () => {
    const r = parse("process A\nA: x = mmap(\nprocess B\nassert ?\nprocess C\n");
    expect(r.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([
      ["PL004", 2],
      ["PL001", 4],
    ]);
    expect(
      (r.program as Program).statements.map((s) => (s.kind === "process" ? s.name.name : s.kind)),
    ).toEqual(["A", "B", "C"]);
    expect(r.partialNames).toEqual(["x"]);
  });
});
