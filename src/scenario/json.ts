/**
 * The JSON form of a scenario: the AST itself, with the source map beside
 * it, so programs (and the browser) can build scenarios without text.
 *
 *     { "format": "pinlab-scenario", "version": 1,
 *       "program": { "kind": "program", "id": 40, "statements": [ … ] },
 *       "sourceMap": { "1": { "line": 1, "col": 1, "endLine": 1, "endCol": 9 }, … } }
 *
 * `fromJson` validates a value of unknown shape node by node and reports
 * every problem as PL007 with its JSON path. Node ids may be left out: when
 * any is missing or repeated, all are renumbered (and positions dropped).
 */
import {
  BINARY_OPS,
  type BinaryOp,
  children,
  COMPARE_OPS,
  type CompareOp,
  type Condition,
  type Expectation,
  type Expr,
  type Loc,
  type Name,
  type Node,
  type PathLit,
  type Program,
  type Setting,
  type SourceMap,
  type Statement,
} from "./ast.js";
import { diag, type Diagnostic } from "./diagnostics.js";
import { parseNumber } from "./lexer.js";
import type { ParseResult } from "./parser.js";

export const JSON_FORMAT = "pinlab-scenario";
export const JSON_VERSION = 1;

export interface ScenarioJson {
  format: typeof JSON_FORMAT;
  version: typeof JSON_VERSION;
  program: Program;
  sourceMap?: Record<string, Loc>;
}

export function toJson(program: Program, sourceMap?: SourceMap): ScenarioJson {
  const out: ScenarioJson = { format: JSON_FORMAT, version: JSON_VERSION, program };
  if (sourceMap && sourceMap.size) {
    const sm: Record<string, Loc> = {};
    for (const id of [...sourceMap.keys()].sort((a, b) => a - b)) sm[String(id)] = sourceMap.get(id)!;
    out.sourceMap = sm;
  }
  return out;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WORD = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const PATH = /^\/[^\s,()#"=|]*$/;

type Obj = Record<string, unknown>;

/** Decode a scenario from its JSON form (or a bare program node). */
export function fromJson(value: unknown): ParseResult {
  const d = new Decoder();
  let root = value;
  let sm: unknown;
  if (isObj(value) && value.format !== undefined) {
    if (value.format !== JSON_FORMAT) d.err("$.format", `expected "${JSON_FORMAT}"`);
    if (value.version !== JSON_VERSION) d.err("$.version", `expected ${JSON_VERSION}`);
    root = value.program;
    sm = value.sourceMap;
  }
  const program = d.program(root, isObj(value) && value.format !== undefined ? "$.program" : "$");
  const sourceMap: SourceMap = new Map();
  if (d.idsUsable()) {
    if (isObj(sm))
      for (const [k, v] of Object.entries(sm)) {
        const id = Number(k);
        if (Number.isSafeInteger(id) && isLoc(v)) sourceMap.set(id, v);
        else d.err(`$.sourceMap.${k}`, "expected a node id and {line, col, endLine, endCol}");
      }
  } else renumber(program);
  return { program, sourceMap, diagnostics: d.errors };
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isLoc(v: unknown): v is Loc {
  return isObj(v) && ["line", "col", "endLine", "endCol"].every((k) => Number.isSafeInteger(v[k]));
}

function renumber(p: Program): void {
  let next = 1;
  const walk = (n: Node) => {
    for (const c of children(n)) walk(c);
    (n as { id: number }).id = next++;
  };
  walk(p);
}

class Decoder {
  readonly errors: Diagnostic[] = [];
  private readonly seen = new Set<number>();
  private bad = false;

  err(path: string, what: string): void {
    if (this.errors.length < 100)
      this.errors.push(diag("PL007", `invalid JSON scenario at ${path}: ${what}`));
  }

  idsUsable(): boolean {
    return !this.bad;
  }

  private id(o: Obj): number {
    const id = o.id;
    if (typeof id !== "number" || !Number.isSafeInteger(id) || this.seen.has(id)) {
      this.bad = true;
      return 0;
    }
    this.seen.add(id);
    return id;
  }

  private obj(v: unknown, path: string, what: string): Obj | null {
    if (!isObj(v)) {
      this.err(path, `expected ${what}`);
      return null;
    }
    return v;
  }

  private str(o: Obj, key: string, path: string, re?: RegExp, what = "a string"): string {
    const v = o[key];
    if (typeof v !== "string" || (re && !re.test(v))) {
      this.err(`${path}.${key}`, `expected ${what}`);
      return typeof v === "string" ? v : "";
    }
    return v;
  }

  program(v: unknown, path: string): Program {
    const o = this.obj(v, path, "a program node");
    const statements: Statement[] = [];
    if (!o) return { kind: "program", id: 0, statements };
    if (o.kind !== "program") this.err(`${path}.kind`, `expected "program"`);
    if (!Array.isArray(o.statements)) this.err(`${path}.statements`, "expected an array of statements");
    else
      o.statements.forEach((s, i) => {
        const st = this.statement(s, `${path}.statements[${i}]`);
        if (st) statements.push(st);
      });
    return { kind: "program", id: this.id(o), statements };
  }

  name(v: unknown, path: string, re = IDENT, what = "a name"): Name {
    const o = this.obj(v, path, `a name node {kind: "name", name}`);
    if (!o) return { kind: "name", id: 0, name: "_" };
    if (o.kind !== "name") this.err(`${path}.kind`, `expected "name"`);
    return { kind: "name", id: this.id(o), name: this.str(o, "name", path, re, what) };
  }

  private path(v: unknown, p: string): PathLit {
    const o = this.obj(v, p, `a path node {kind: "path", value}`);
    if (!o) return { kind: "path", id: 0, value: "/" };
    if (o.kind !== "path") this.err(`${p}.kind`, `expected "path"`);
    return { kind: "path", id: this.id(o), value: this.str(o, "value", p, PATH, "an absolute path") };
  }

  private settings(v: unknown, path: string): Setting[] {
    if (!Array.isArray(v)) {
      this.err(path, "expected an array of settings");
      return [];
    }
    const out: Setting[] = [];
    v.forEach((s, i) => {
      const p = `${path}[${i}]`;
      const o = this.obj(s, p, `a setting {kind: "setting", key, value}`);
      if (!o) return;
      if (o.kind !== "setting") this.err(`${p}.kind`, `expected "setting"`);
      out.push({
        kind: "setting",
        id: this.id(o),
        key: this.name(o.key, `${p}.key`, WORD, "a setting key"),
        value: this.expr(o.value, `${p}.value`),
      });
    });
    return out;
  }

  statement(v: unknown, path: string): Statement | null {
    const o = this.obj(v, path, "a statement node");
    if (!o) return null;
    switch (o.kind) {
      case "scenario":
        return { kind: "scenario", id: this.id(o), title: this.str(o, "title", path) };
      case "kernel":
        return {
          kind: "kernel",
          id: this.id(o),
          version: this.name(o.version, `${path}.version`, WORD, "a version"),
        };
      case "machine":
        return { kind: "machine", id: this.id(o), settings: this.settings(o.settings, `${path}.settings`) };
      case "mount":
        return {
          kind: "mount",
          id: this.id(o),
          fs: this.name(o.fs, `${path}.fs`),
          path: this.path(o.path, `${path}.path`),
        };
      case "process":
        return {
          kind: "process",
          id: this.id(o),
          name: this.name(o.name, `${path}.name`),
          settings: this.settings(o.settings ?? [], `${path}.settings`),
        };
      case "step": {
        const call = this.expr(o.call, `${path}.call`);
        if (call.kind !== "call") {
          this.err(`${path}.call`, `expected a call node {kind: "call", callee, args}`);
          return null;
        }
        return {
          kind: "step",
          id: this.id(o),
          actor: this.name(o.actor, `${path}.actor`),
          binding:
            o.binding === null || o.binding === undefined ? null : this.name(o.binding, `${path}.binding`),
          call,
          expect:
            o.expect === null || o.expect === undefined ? null : this.expectation(o.expect, `${path}.expect`),
        };
      }
      case "assert":
        return { kind: "assert", id: this.id(o), cond: this.condition(o.cond, `${path}.cond`) };
    }
    this.err(`${path}.kind`, "expected one of scenario, kernel, machine, mount, process, step, assert");
    return null;
  }

  private expectation(v: unknown, path: string): Expectation {
    const o = this.obj(v, path, "an expectation node");
    if (o?.kind === "expect_ok") return { kind: "expect_ok", id: this.id(o) };
    if (o?.kind === "expect_value")
      return { kind: "expect_value", id: this.id(o), value: this.expr(o.value, `${path}.value`) };
    if (o) this.err(`${path}.kind`, `expected "expect_ok" or "expect_value"`);
    return { kind: "expect_ok", id: 0 };
  }

  private condition(v: unknown, path: string): Condition {
    const o = this.obj(v, path, "a condition node");
    if (!o) return { kind: "no_hazards", id: 0 };
    switch (o.kind) {
      case "compare": {
        const op = o.op;
        if (typeof op !== "string" || !(COMPARE_OPS as readonly string[]).includes(op))
          this.err(`${path}.op`, `expected one of ${COMPARE_OPS.join(" ")}`);
        return {
          kind: "compare",
          id: this.id(o),
          op: (typeof op === "string" && (COMPARE_OPS as readonly string[]).includes(op)
            ? op
            : "==") as CompareOp,
          left: this.expr(o.left, `${path}.left`),
          right: this.expr(o.right, `${path}.right`),
        };
      }
      case "truthy":
        return { kind: "truthy", id: this.id(o), expr: this.expr(o.expr, `${path}.expr`) };
      case "not":
        return { kind: "not", id: this.id(o), operand: this.condition(o.operand, `${path}.operand`) };
      case "hazard":
        if (typeof o.negated !== "boolean") this.err(`${path}.negated`, "expected true or false");
        return {
          kind: "hazard",
          id: this.id(o),
          hazard: this.name(o.hazard, `${path}.hazard`),
          negated: o.negated === true,
        };
      case "no_hazards":
        return { kind: "no_hazards", id: this.id(o) };
    }
    this.err(`${path}.kind`, "expected one of compare, truthy, not, hazard, no_hazards");
    return { kind: "no_hazards", id: 0 };
  }

  expr(v: unknown, path: string, depth = 0): Expr {
    const o = this.obj(v, path, "an expression node");
    const dummy: Expr = { kind: "num", id: 0, value: 0 };
    if (!o) return dummy;
    if (depth > 64) {
      this.err(path, "expression nested too deeply");
      return dummy;
    }
    switch (o.kind) {
      case "num": {
        const value = o.value;
        if (typeof value !== "number" || !Number.isSafeInteger(value)) {
          this.err(`${path}.value`, "expected a safe integer");
          return dummy;
        }
        const n: Expr = { kind: "num", id: this.id(o), value };
        if (o.text !== undefined) {
          const p = typeof o.text === "string" ? parseNumber(o.text) : null;
          if (!p || !("value" in p) || p.value !== value)
            this.err(`${path}.text`, `expected the spelling of ${value}`);
          else n.text = o.text as string;
        }
        return n;
      }
      case "str":
        return { kind: "str", id: this.id(o), value: this.str(o, "value", path) };
      case "path":
        return this.path(o, path);
      case "name":
        return this.name(o, path);
      case "neg":
        return { kind: "neg", id: this.id(o), operand: this.expr(o.operand, `${path}.operand`, depth + 1) };
      case "binary": {
        const op = o.op;
        if (typeof op !== "string" || !(BINARY_OPS as readonly string[]).includes(op))
          this.err(`${path}.op`, `expected one of ${BINARY_OPS.join(" ")}`);
        return {
          kind: "binary",
          id: this.id(o),
          op: (typeof op === "string" && (BINARY_OPS as readonly string[]).includes(op)
            ? op
            : "+") as BinaryOp,
          left: this.expr(o.left, `${path}.left`, depth + 1),
          right: this.expr(o.right, `${path}.right`, depth + 1),
        };
      }
      case "call": {
        const args: Expr[] = [];
        if (!Array.isArray(o.args)) this.err(`${path}.args`, "expected an array of expressions");
        else o.args.forEach((a, i) => args.push(this.expr(a, `${path}.args[${i}]`, depth + 1)));
        return { kind: "call", id: this.id(o), callee: this.name(o.callee, `${path}.callee`), args };
      }
    }
    this.err(`${path}.kind`, "expected one of num, str, path, name, neg, binary, call");
    return dummy;
  }
}
