/**
 * The printer: AST → scenario text, one statement per line. Parsing the
 * printed text gives back the same tree (ids and positions aside), so a
 * scenario built as JSON by a program has a text form, and the runner's
 * output shows each step the way the file spells it (numbers keep their
 * spelling: 4K stays 4K).
 */
import type { Condition, Expectation, Expr, Program, Setting, Statement } from "./ast.js";

const PREC: Record<string, number> = { "|": 1, "+": 2, "-": 2 };

export function printString(s: string): string {
  return (
    '"' +
    s
      .replace(/\\/g, "\\\\")
      .replace(/"/g, '\\"')
      .replace(/\n/g, "\\n")
      .replace(/\t/g, "\\t")
      .replace(/\0/g, "\\0") +
    '"'
  );
}

export function printExpr(e: Expr, outer = 0): string {
  switch (e.kind) {
    case "num":
      return e.text ?? (e.value < 0 ? `(${e.value})` : String(e.value));
    case "str":
      return printString(e.value);
    case "path":
    case "name":
      return e.kind === "path" ? e.value : e.name;
    case "neg":
      return `-${printExpr(e.operand, 3)}`;
    case "binary": {
      const p = PREC[e.op];
      const s =
        e.op === "|"
          ? `${printExpr(e.left, p)}|${printExpr(e.right, p + 1)}`
          : `${printExpr(e.left, p)} ${e.op} ${printExpr(e.right, p + 1)}`;
      return p < outer ? `(${s})` : s;
    }
    case "call":
      return `${e.callee.name}(${e.args.map((a) => printExpr(a)).join(", ")})`;
  }
}

export function printCondition(c: Condition): string {
  switch (c.kind) {
    case "compare":
      return `${printExpr(c.left)} ${c.op} ${printExpr(c.right)}`;
    case "truthy":
      return printExpr(c.expr);
    case "not":
      // `!` negates the whole rest of the line: `! load(A, buf) == 1`
      return `!${printCondition(c.operand)}`;
    case "hazard":
      return `${c.negated ? "no hazard" : "hazard"} ${c.hazard.name}`;
    case "no_hazards":
      return "no hazards";
  }
}

export function printExpectation(x: Expectation): string {
  return x.kind === "expect_ok" ? "ok" : printExpr(x.value);
}

function printSettings(ss: Setting[]): string {
  return ss.map((s) => ` ${s.key.name}=${printExpr(s.value)}`).join("");
}

export function printStatement(s: Statement): string {
  switch (s.kind) {
    case "scenario":
      return `scenario ${printString(s.title)}`;
    case "kernel":
      return `kernel ${s.version.name}`;
    case "machine":
      return `machine${printSettings(s.settings)}`;
    case "mount":
      return `mount ${s.fs.name} ${s.path.value}`;
    case "process":
      return `process ${s.name.name}${printSettings(s.settings)}`;
    case "step": {
      const b = s.binding ? `${s.binding.name} = ` : "";
      const x = s.expect ? ` = ${printExpectation(s.expect)}` : "";
      return `${s.actor.name}: ${b}${printExpr(s.call)}${x}`;
    }
    case "assert":
      return `assert ${printCondition(s.cond)}`;
  }
}

export function printProgram(p: Program): string {
  return p.statements.map((s) => printStatement(s) + "\n").join("");
}
