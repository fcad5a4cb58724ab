/**
 * Typing: arguments against the call table's kinds (processes, sizes,
 * flags of one family, handles, strings), expressions (integers, truth
 * values, zone and migratetype symbols), observers and assert conditions.
 * Records what every name resolves to in the scope.
 */
import { ERRNO } from "../kernel/include/errno.js";
import { isHazardName } from "../observe/hazard.js";
import type { Call, Condition, Expr, Name } from "./ast.js";
import {
  arity,
  type ArgSpec,
  isCallName,
  isObserverName,
  OBSERVER_NAMES,
  OBSERVERS,
  signature,
} from "./calls.js";
import { constValue } from "./constant.js";
import type { Reporter, Scope } from "./scope.js";
import { didYouMean, listSome } from "./suggest.js";
import { HANDLE_KINDS } from "./value.js";
import {
  canonicalSymbol,
  ERRNO_NAMES,
  familyLabel,
  type FlagFamily,
  FLAG_FAMILIES,
  FLAGS,
  HAZARDS_LIST,
  isErrnoName,
  SYMBOLS,
  type SymVocab,
} from "./vocab.js";

/** Static types of expressions; "error" silences follow-on diagnostics. */
export type Ty = "int" | "bool" | "zone" | "migratetype" | "str" | "path" | "process" | "error";

const SYM_TYPES: readonly Ty[] = ["zone", "migratetype"];

export class Typer {
  constructor(
    private readonly r: Reporter,
    private readonly scope: Scope,
  ) {}

  args(call: Call, spec: { readonly args: readonly ArgSpec[] }): void {
    const { min, max } = arity(spec);
    const n = call.args.length;
    if (n < min || n > max) {
      const count = min === max ? `${min}` : `${min} to ${max}`;
      this.r.report(
        "PL201",
        call,
        `\`${call.callee.name}\` takes ${count} argument${max === 1 ? "" : "s"}, got ${n}`,
        {
          expected: signature(call.callee.name, spec),
        },
      );
    }
    call.args.forEach((e, i) => {
      const a = spec.args[i];
      if (a) this.arg(e, a, call.callee.name);
      else this.expr(e);
    });
  }

  private arg(e: Expr, a: ArgSpec, callee: string): void {
    const what = `argument \`${a.name}\` of \`${callee}\``;
    switch (a.kind) {
      case "process": {
        if (e.kind !== "name") {
          this.expr(e);
          this.r.report("PL203", e, `${what} is a process`, { expected: "a process name, e.g. A" });
          return;
        }
        if (this.scope.processes.has(e.name)) {
          this.scope.names.set(e.id, { kind: "process", name: e.name });
          return;
        }
        if (this.scope.bindings.has(e.name)) {
          this.r.report("PL203", e, `\`${e.name}\` is a value, but ${what} is a process`, {
            expected: "a process name",
          });
          return;
        }
        if (this.scope.declaredAnywhere.has(e.name) || this.scope.assumed.has(e.name))
          return this.scope.unknownName(e, []);
        this.r.report("PL101", e, `unknown process \`${e.name}\``, {
          expected: "a process declared with `process NAME` or `NAME = fork()`",
          hint: didYouMean(e.name, this.scope.processes.keys()),
        });
        return;
      }
      case "string":
        if (e.kind !== "str") {
          this.expr(e);
          this.r.report("PL203", e, `${what} is a string`, { expected: '"text" in double quotes' });
        }
        return;
      case "path":
        if (e.kind !== "str" && e.kind !== "path") {
          this.expr(e);
          this.r.report("PL203", e, `${what} is a path`, { expected: '/a/path or "/a/path"' });
        }
        return;
      case "handle":
        return this.handleArg(e, a, what);
      case "flags":
        return this.flagsArg(e, a.family!, what);
      default: {
        const t = this.intExpr(e, what);
        if (t !== "int") return;
        const v = constValue(e);
        if (v === null) return;
        if (a.kind === "size" && v < 0)
          this.r.report("PL301", e, `${what} is a size and cannot be negative (${v})`, {
            hint: "sizes are unsigned in the kernel; to test huge lengths write one, e.g. 1T",
          });
        if (a.kind === "byte" && (v < 0 || v > 0xffffffff))
          this.r.report("PL303", e, `${what} is a page content word: ${v} is out of range`, {
            expected: "0 … 0xffffffff",
          });
        if (!Number.isSafeInteger(v)) this.r.report("PL303", e, `${what} is too large`);
      }
    }
  }

  private handleArg(e: Expr, a: ArgSpec, what: string): void {
    const kinds = a.handles ?? [];
    const wanted = kinds.map((k) => `${k} (${HANDLE_KINDS[k]})`).join("; ");
    if (e.kind !== "name") {
      this.expr(e);
      this.r.report("PL205", e, `${what} is a handle: a name bound to what a call produced`, {
        expected: wanted,
      });
      return;
    }
    const b = this.scope.bindings.get(e.name);
    if (!b) {
      if (this.scope.processes.has(e.name))
        this.r.report("PL205", e, `\`${e.name}\` is a process, but ${what} is a handle`, {
          expected: wanted,
        });
      else this.scope.unknownName(e, this.scope.bindings.keys(), "binding");
      return;
    }
    this.scope.names.set(e.id, { kind: "binding", name: e.name });
    if (!b.handle || !kinds.includes(b.handle))
      this.r.report(
        "PL205",
        e,
        `\`${e.name}\` holds ${b.handle ? `a ${b.handle} handle` : `the result of ${b.call}()`}, but ${what} takes ${kinds.join(" or ")}`,
        {
          expected: wanted,
          hint: b.handle ? undefined : `bind the result of a call that produces ${kinds.join(" or ")}`,
        },
      );
  }

  /** A flag union: every name must belong to the family; numbers and bindings pass. */
  private flagsArg(e: Expr, family: FlagFamily, what: string): void {
    if (e.kind === "binary" && e.op === "|") {
      this.flagsArg(e.left, family, what);
      this.flagsArg(e.right, family, what);
      return;
    }
    if (e.kind !== "name") {
      this.intExpr(e, what);
      return;
    }
    const f = FLAGS.get(e.name);
    const names = Object.keys(FLAG_FAMILIES[family]);
    if (f) {
      this.scope.names.set(e.id, { kind: "const", value: f.value });
      if (f.family !== family)
        this.r.report(
          "PL204",
          e,
          `\`${e.name}\` is a ${familyLabel(f.family)} flag, but ${what} takes ${familyLabel(family)}`,
          {
            expected: listSome(names),
            hint: this.familyHint(e.name, family),
          },
        );
      return;
    }
    if (/^[A-Z][A-Z0-9_]*$/.test(e.name) && !this.scope.bindings.has(e.name) && e.name !== "NULL") {
      const hint = didYouMean(e.name, names) ?? didYouMean(e.name, FLAGS.keys());
      this.r.report("PL105", e, `unknown flag \`${e.name}\``, {
        expected: `${familyLabel(family)}: ${listSome(names)}`,
        hint,
      });
      return;
    }
    this.intExpr(e, what);
  }

  private familyHint(name: string, family: FlagFamily): string | undefined {
    const stem = name.replace(/^[A-Z]+_/, "");
    const cand = Object.keys(FLAG_FAMILIES[family]).find((n) => n.endsWith(`_${stem}`));
    return cand ? `did you mean \`${cand}\`?` : undefined;
  }

  /** Type-check an expression that must be an integer; returns its type. */
  intExpr(e: Expr, what: string): Ty {
    const t = this.expr(e);
    if (t !== "int" && t !== "error")
      this.r.report("PL203", e, `${what} is a number, not ${tyLabel(t)}`, {
        expected: "an integer expression",
      });
    return t;
  }

  expr(e: Expr, symVocab?: SymVocab): Ty {
    switch (e.kind) {
      case "num":
        return "int";
      case "str":
        return "str";
      case "path":
        return "path";
      case "neg": {
        if (
          e.operand.kind === "name" &&
          /^E[A-Z0-9]+$/.test(e.operand.name) &&
          !this.scope.known(e.operand.name)
        ) {
          this.r.report("PL106", e.operand, `unknown errno \`${e.operand.name}\``, {
            expected: "an errno name such as EFAULT, EINVAL, ENOMEM, EBUSY",
            hint: didYouMean(e.operand.name, ERRNO_NAMES),
          });
          return "error";
        }
        return this.intExpr(e.operand, "the operand of `-`") === "error" ? "error" : "int";
      }
      case "binary": {
        const l = this.intExpr(e.left, `the left operand of \`${e.op}\``);
        const r = this.intExpr(e.right, `the right operand of \`${e.op}\``);
        return l === "error" || r === "error" ? "error" : "int";
      }
      case "name":
        return this.nameExpr(e, symVocab);
      case "call":
        return this.observer(e);
    }
  }

  private nameExpr(e: Name, symVocab?: SymVocab): Ty {
    const n = e.name;
    if (n === "NULL") {
      this.scope.names.set(e.id, { kind: "const", value: 0 });
      return "int";
    }
    if (n === "true" || n === "false") {
      this.scope.names.set(e.id, { kind: "bool", value: n === "true" });
      return "bool";
    }
    if (n === "ok") {
      this.r.report("PL102", e, "`ok` is only an expectation: `A: munmap(buf, 4K) = ok`", {
        hint: "in a comparison, write `x >= 0`",
      });
      return "error";
    }
    if (this.scope.bindings.has(n)) {
      this.scope.names.set(e.id, { kind: "binding", name: n });
      return "int";
    }
    if (this.scope.processes.has(n)) {
      this.scope.names.set(e.id, { kind: "process", name: n });
      return "process";
    }
    if (symVocab) {
      const s = canonicalSymbol(symVocab, n);
      if (s) {
        this.scope.names.set(e.id, { kind: "sym", vocab: symVocab, name: s });
        return symVocab;
      }
    }
    const f = FLAGS.get(n);
    if (f) {
      this.scope.names.set(e.id, { kind: "const", value: f.value });
      return "int";
    }
    if (isErrnoName(n)) {
      this.scope.names.set(e.id, { kind: "const", value: ERRNO[n] });
      return "int";
    }
    if (symVocab) {
      this.r.report("PL113", e, `unknown ${symVocab} \`${n}\``, {
        expected: SYMBOLS[symVocab].join(", "),
        hint: didYouMean(n.toUpperCase().replace(/^(ZONE_|MIGRATE_)/, ""), SYMBOLS[symVocab]),
      });
      return "error";
    }
    if (
      /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(n) &&
      !this.scope.declaredAnywhere.has(n) &&
      !this.scope.assumed.has(n)
    ) {
      this.r.report("PL105", e, `unknown constant \`${n}\``, {
        expected: "a flag or errno name (PROT_*, MAP_*, MADV_*, O_*, FOLL_*, E…)",
        hint: didYouMean(n, [...FLAGS.keys(), ...ERRNO_NAMES]),
      });
      return "error";
    }
    if (canonicalSymbol("zone", n) || canonicalSymbol("migratetype", n)) {
      this.r.report(
        "PL206",
        e,
        `\`${n}\` is a zone or migratetype name; compare it with zone(…) or migratetype(…)`,
      );
      return "error";
    }
    this.scope.unknownName(e, [...this.scope.knownNames(), ...FLAGS.keys(), ...ERRNO_NAMES]);
    return "error";
  }

  private observer(c: Call): Ty {
    const name = c.callee.name;
    if (!isObserverName(name)) {
      this.r.report("PL104", c.callee, `unknown observer \`${name}\``, {
        expected: listSome(OBSERVER_NAMES, 12),
        hint: isCallName(name)
          ? `\`${name}\` is a step, not an observer: run it on its own line (\`A: x = ${name}(…)\`) and compare x`
          : didYouMean(name, OBSERVER_NAMES),
      });
      for (const a of c.args) this.expr(a);
      return "error";
    }
    const spec = OBSERVERS[name];
    this.args(c, spec);
    return spec.result;
  }

  // --- conditions ----------------------------------------------------------------------------------

  condition(c: Condition): void {
    switch (c.kind) {
      case "no_hazards":
        return;
      case "hazard":
        if (!isHazardName(c.hazard.name))
          this.r.report("PL107", c.hazard, `unknown hazard \`${c.hazard.name}\``, {
            expected: HAZARDS_LIST.join(", "),
            hint: didYouMean(c.hazard.name, HAZARDS_LIST),
          });
        return;
      case "not":
        return this.condition(c.operand);
      case "truthy": {
        const t = this.expr(c.expr);
        if (t !== "bool" && t !== "error")
          this.r.report("PL207", c.expr, `an assert needs a condition, and this is ${tyLabel(t)}`, {
            hint: t === "int" ? "compare it, e.g. `load(A, buf) == 0x55`" : "compare it with `==`",
          });
        return;
      }
      case "compare": {
        const lt = this.exprBeside(c.left, c.right);
        const rt = this.exprBeside(c.right, c.left, lt);
        if (lt === "error" || rt === "error") return;
        const ordering = c.op !== "==" && c.op !== "!=";
        if (lt !== rt || (ordering && lt !== "int") || lt === "process" || lt === "str" || lt === "path")
          this.r.report("PL206", c, `cannot compare ${tyLabel(lt)} ${c.op} ${tyLabel(rt)}`, {
            hint: ordering && lt === rt ? "only numbers are ordered; use == or !=" : undefined,
          });
        return;
      }
    }
  }

  /**
   * Type one side of a comparison; a bare name next to zone()/migratetype()
   * is read as a symbol of that vocabulary (`zone(A, buf) == MOVABLE`).
   */
  private exprBeside(e: Expr, other: Expr, otherTy?: Ty): Ty {
    let vocab: SymVocab | undefined;
    if (otherTy && (SYM_TYPES as readonly string[]).includes(otherTy)) vocab = otherTy as SymVocab;
    else if (other.kind === "call" && isObserverName(other.callee.name)) {
      const r = OBSERVERS[other.callee.name].result;
      if (r === "zone" || r === "migratetype") vocab = r;
    }
    return this.expr(e, vocab);
  }
}

function tyLabel(t: Ty): string {
  switch (t) {
    case "int":
      return "a number";
    case "bool":
      return "a truth value";
    case "zone":
      return "a zone";
    case "migratetype":
      return "a migratetype";
    case "str":
      return "a string";
    case "path":
      return "a path";
    case "process":
      return "a process";
    case "error":
      return "an error";
  }
}
