/**
 * What the oracle needs from a checked scenario: its runnable statements in
 * the order the model's runner executes them (one StepResult each), the
 * observer calls of an assert, and an evaluator for expressions over
 * whichever side's bindings — the model's addresses or the kernel's.
 */
import type { AssertStmt, Call, Condition, Expr, Statement } from "../scenario/ast.js";
import type { CheckedScenario } from "../scenario/checker.js";
import { isObserverName } from "../scenario/calls.js";
import { orInt } from "../scenario/constant.js";
import { printExpr } from "../scenario/print.js";
import { type ComparableValue, compareValues as compareLanguageValues } from "../scenario/value.js";

export type Runnable = Extract<Statement, { kind: "mount" | "process" | "step" | "assert" }>;

/** The statements the runner executes, in order: StepResult n is runnable[n - 1]. */
export function runnables(c: CheckedScenario): Runnable[] {
  return c.program.statements.filter(
    (s): s is Runnable =>
      s.kind === "mount" || s.kind === "process" || s.kind === "step" || s.kind === "assert",
  );
}

/** Every observer call of a condition, left to right (nested ones included). */
export function observerCalls(cond: Condition): Call[] {
  const out: Call[] = [];
  const expr = (e: Expr): void => {
    switch (e.kind) {
      case "call":
        if (isObserverName(e.callee.name)) out.push(e);
        for (const a of e.args) expr(a);
        break;
      case "neg":
        expr(e.operand);
        break;
      case "binary":
        expr(e.left);
        expr(e.right);
        break;
      default:
        break;
    }
  };
  const visit = (c: Condition): void => {
    switch (c.kind) {
      case "compare":
        expr(c.left);
        expr(c.right);
        break;
      case "truthy":
        expr(c.expr);
        break;
      case "not":
        visit(c.operand);
        break;
      default:
        break;
    }
  };
  visit(cond);
  return out;
}

/** Does the condition name a hazard (a model-only notion)? */
export function mentionsHazard(cond: Condition): boolean {
  if (cond.kind === "hazard" || cond.kind === "no_hazards") return true;
  if (cond.kind === "not") return mentionsHazard(cond.operand);
  return false;
}

export function assertsOf(c: CheckedScenario): AssertStmt[] {
  return c.program.statements.filter((s): s is AssertStmt => s.kind === "assert");
}

/** A value of an expression on one side. */
export type SideValue =
  | { kind: "int"; n: number }
  | { kind: "bool"; b: boolean }
  | { kind: "sym"; name: string }
  | { kind: "none" }
  /** the side cannot know it (a value the kernel cannot observe, an unbound name) */
  | { kind: "unknown"; why: string };

export interface Scope {
  /** a binding's number on this side, or undefined if unbound there */
  binding(name: string): number | undefined;
  /** a process's pid on this side */
  process(name: string): number | undefined;
  /** an observer call's value on this side */
  observe?(call: Call): SideValue;
}

/** Evaluate an expression with the checker's name resolution and one side's values. */
export function evalExpr(c: CheckedScenario, e: Expr, scope: Scope): SideValue {
  const num = (x: Expr): number | SideValue => {
    const v = evalExpr(c, x, scope);
    return v.kind === "int" ? v.n : v;
  };
  switch (e.kind) {
    case "num":
      return { kind: "int", n: e.value };
    case "str":
    case "path":
      return { kind: "unknown", why: `${printExpr(e)} is text` };
    case "neg": {
      const v = num(e.operand);
      return typeof v === "number" ? { kind: "int", n: -v } : v;
    }
    case "binary": {
      const l = num(e.left);
      if (typeof l !== "number") return l;
      const r = num(e.right);
      if (typeof r !== "number") return r;
      return { kind: "int", n: e.op === "+" ? l + r : e.op === "-" ? l - r : orInt(l, r) };
    }
    case "name": {
      const r = c.names.get(e.id);
      if (!r) return { kind: "unknown", why: `${e.name} is not resolved` };
      switch (r.kind) {
        case "binding": {
          const n = scope.binding(r.name);
          return n === undefined ? { kind: "unknown", why: `${r.name} is not bound` } : { kind: "int", n };
        }
        case "process": {
          const n = scope.process(r.name);
          return n === undefined ? { kind: "unknown", why: `no process ${r.name}` } : { kind: "int", n };
        }
        case "const":
          return { kind: "int", n: r.value };
        case "bool":
          return { kind: "bool", b: r.value };
        case "sym":
          return { kind: "sym", name: r.name };
      }
      break;
    }
    case "call":
      return scope.observe ? scope.observe(e) : { kind: "unknown", why: "observers are not evaluated here" };
  }
  return { kind: "unknown", why: "unreachable" };
}

/** A value of the language (a run's Value or its JSON form) as a side value, without its extras. */
export function toSideValue(v: ComparableValue): SideValue {
  switch (v.kind) {
    case "int":
      return { kind: "int", n: v.n };
    case "bool":
      return { kind: "bool", b: v.b };
    case "sym":
      return { kind: "sym", name: v.name };
    case "none":
      return { kind: "none" };
  }
}

/** Compare two side values as the language does (`==`, `<`, …); null when one is unknown. */
export function compareValues(op: string, l: SideValue, r: SideValue): boolean | null {
  if (l.kind === "unknown" || r.kind === "unknown") return null;
  return compareLanguageValues(op, l, r);
}

/** A condition's truth with one side's observer values; null when something is unknown. */
export function evalCondition(c: CheckedScenario, cond: Condition, scope: Scope): boolean | null {
  switch (cond.kind) {
    case "compare":
      return compareValues(cond.op, evalExpr(c, cond.left, scope), evalExpr(c, cond.right, scope));
    case "truthy": {
      const v = evalExpr(c, cond.expr, scope);
      if (v.kind === "unknown") return null;
      return v.kind === "bool" && v.b;
    }
    case "not": {
      const v = evalCondition(c, cond.operand, scope);
      return v === null ? null : !v;
    }
    default:
      return null;
  }
}

export function formatSideValue(v: SideValue, hex = false): string {
  switch (v.kind) {
    case "int":
      return hex && v.n >= 0 ? "0x" + v.n.toString(16) : String(v.n);
    case "bool":
      return String(v.b);
    case "sym":
      return v.name;
    case "none":
      return "not mapped";
    case "unknown":
      return `unknown (${v.why})`;
  }
}
