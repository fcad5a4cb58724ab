/**
 * The scenario parser: a hand-written recursive descent over the lexer's
 * tokens, one statement per line. A syntax error is reported and the parser
 * resumes at the next line, so one pass reports every broken line. Returns
 * the AST, the source map (node id → position) and the diagnostics.
 *
 * Grammar (v1), one line each:
 *   statement  := "scenario" STRING
 *               | "kernel" WORD
 *               | "machine" setting*
 *               | "mount" NAME PATH
 *               | "process" NAME setting*
 *               | NAME ":" [NAME "="] call ["=" expectation]
 *               | "assert" condition
 *   setting    := WORD "=" expr           (WORD: adjacent tokens, e.g. hugetlb.2M)
 *   call       := NAME "(" [expr ("," expr)*] ")"
 *   expectation:= "ok" | expr
 *   condition  := "no" "hazards" | "no" "hazard" NAME | "hazard" NAME
 *               | "!" condition | expr [("=="|"!="|"<"|"<="|">"|">=") expr]
 *   expr       := sum ("|" sum)*
 *   sum        := unary (("+"|"-") unary)*
 *   unary      := "-" unary | primary
 *   primary    := NUMBER | STRING | PATH | NAME | call | "(" expr ")"
 */
import {
  COMPARE_OPS,
  type Call,
  type CompareOp,
  type Condition,
  type Expectation,
  type Expr,
  type Loc,
  type Name,
  type NodeId,
  type Program,
  type Setting,
  type SourceMap,
  type Statement,
} from "./ast.js";
import { diag, type Diagnostic, sortDiagnostics } from "./diagnostics.js";
import { lex, type Token } from "./lexer.js";
import { didYouMean } from "./suggest.js";
import { STATEMENT_KEYWORDS } from "./vocab.js";

export interface ParseResult {
  program: Program;
  sourceMap: SourceMap;
  diagnostics: Diagnostic[];
  /**
   * Names that lines with syntax errors seem to declare (`A: buf = mmap(…`
   * with a typo inside, `proces A`): the checker treats them as defined so
   * one broken line does not make every later use an error too.
   */
  partialNames?: string[];
}

/** Deeper nesting than this is refused (PL006) rather than risking the stack. */
export const MAX_NESTING = 64;

/** Thrown inside the parser only, caught at the statement boundary. */
class SyntaxError_ {
  constructor(readonly d: Diagnostic) {}
}

type Pos = { line: number; col: number };

export function parse(src: string): ParseResult {
  return new Parser(src).parseProgram();
}

class Parser {
  private readonly toks: Token[];
  private readonly diagnostics: Diagnostic[];
  private readonly sourceMap: SourceMap = new Map();
  private pos = 0;
  private nextId = 1;
  private readonly partialNames = new Set<string>();
  private depth = 0;

  constructor(src: string) {
    const { tokens, diagnostics } = lex(src);
    this.toks = tokens;
    this.diagnostics = diagnostics;
  }

  // --- token helpers ---------------------------------------------------------------

  private peek(k = 0): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }
  private prev(): Token {
    return this.toks[Math.max(0, this.pos - 1)];
  }
  private atEol(): boolean {
    const k = this.peek().kind;
    return k === "newline" || k === "eof";
  }
  private isPunct(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === "punct" && t.text === text;
  }
  private isIdent(text?: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === "ident" && (text === undefined || t.text === text);
  }

  private loc(a: Pos, b: Token): Loc {
    return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
  }
  private id(loc: Loc): NodeId {
    const id = this.nextId++;
    this.sourceMap.set(id, loc);
    return id;
  }

  private describe(t: Token): string {
    if (t.kind === "newline") return "end of line";
    if (t.kind === "eof") return "end of file";
    return `\`${t.text}\``;
  }

  private fail(expected: string, hint?: string, t: Token = this.peek()): never {
    const loc = { line: t.line, col: t.col, endLine: t.endLine, endCol: Math.max(t.endCol, t.col + 1) };
    throw new SyntaxError_(diag("PL004", `unexpected ${this.describe(t)}`, { loc }, { expected, hint }));
  }

  private expectPunct(text: string, expected = `\`${text}\``, hint?: string): Token {
    if (!this.isPunct(text)) this.fail(expected, hint);
    return this.next();
  }

  private name(expected: string, hint?: string): Name {
    const t = this.peek();
    if (t.kind !== "ident") this.fail(expected, hint);
    this.next();
    return { kind: "name", id: this.id(this.loc(t, t)), name: t.text };
  }

  /** Adjacent tokens glued into one word: `linux-6.18`, `hugetlb.2M`, `kconfig.CMA`. */
  private word(expected: string): Name {
    const first = this.peek();
    if (first.kind !== "ident" && first.kind !== "num") this.fail(expected);
    let text = "";
    let last = first;
    do {
      last = this.next();
      text += last.text;
    } while (
      !this.atEol() &&
      !this.peek().spaceBefore &&
      (this.peek().kind === "ident" || this.peek().kind === "num" || this.isPunct("-") || this.isPunct("."))
    );
    return { kind: "name", id: this.id(this.loc(first, last)), name: text };
  }

  private endOfStatement(what: string): void {
    if (!this.atEol()) this.fail("the end of the line", `one statement per line; ${what} ends here`);
  }

  // --- program and statements ---------------------------------------------------------

  parseProgram(): ParseResult {
    const statements: Statement[] = [];
    while (this.peek().kind !== "eof") {
      if (this.peek().kind === "newline") {
        this.next();
        continue;
      }
      const lineStart = this.pos;
      if (this.lineHasLexError()) {
        this.notePartialNames(lineStart);
        this.skipLine();
        continue;
      }
      try {
        statements.push(this.statement());
      } catch (e) {
        if (!(e instanceof SyntaxError_)) throw e;
        this.diagnostics.push(e.d);
        this.notePartialNames(lineStart);
        this.skipLine();
      }
    }
    const end = this.peek();
    const program: Program = {
      kind: "program",
      id: this.id({ line: 1, col: 1, endLine: end.line, endCol: end.col }),
      statements,
    };
    const result: ParseResult = {
      program,
      sourceMap: this.sourceMap,
      diagnostics: sortDiagnostics(this.diagnostics),
    };
    if (this.partialNames.size) result.partialNames = [...this.partialNames];
    return result;
  }

  /** A broken line's apparent declarations: `X: NAME = …` and `WORD NAME …` (proces A). */
  private notePartialNames(start: number): void {
    const t = (k: number) => this.toks[Math.min(start + k, this.toks.length - 1)];
    const isId = (k: number) => t(k).kind === "ident";
    const is = (k: number, p: string) => t(k).kind === "punct" && t(k).text === p;
    if (isId(0) && is(1, ":") && isId(2) && is(3, "=")) this.partialNames.add(t(2).text);
    else if (isId(0) && isId(1) && t(0).text !== "assert") this.partialNames.add(t(1).text);
    else if (isId(0) && is(1, "=")) this.partialNames.add(t(0).text);
  }

  /** The lexer already reported this line's bad token: do not pile a parse error on it. */
  private lineHasLexError(): boolean {
    for (let i = this.pos; i < this.toks.length; i++) {
      const k = this.toks[i].kind;
      if (k === "newline" || k === "eof") return false;
      if (k === "error") return true;
    }
    return false;
  }

  private skipLine(): void {
    while (!this.atEol()) this.next();
    if (this.peek().kind === "newline") this.next();
  }

  private statement(): Statement {
    const t = this.peek();
    if (t.kind === "ident" && this.isPunct(":", 1)) return this.step();
    if (t.kind === "ident") {
      switch (t.text) {
        case "scenario":
          return this.scenarioStmt();
        case "kernel":
          return this.kernelStmt();
        case "machine":
          return this.machineStmt();
        case "mount":
          return this.mountStmt();
        case "process":
          return this.processStmt();
        case "assert":
          return this.assertStmt();
      }
      return this.unknownStatement(t);
    }
    this.fail("a statement: scenario, kernel, machine, mount, process, assert or `NAME: call(...)`");
  }

  private unknownStatement(t: Token): never {
    const loc = this.loc(t, t);
    const expected = "a statement: scenario, kernel, machine, mount, process, assert or `NAME: call(...)`";
    if (this.isPunct("(", 1) || (this.isPunct("=", 1) && this.isIdent(undefined, 2)))
      throw new SyntaxError_(
        diag(
          "PL005",
          `a call needs an actor`,
          { loc },
          { expected, hint: `name who calls it: \`A: ${this.lineText()}\` (a process) or \`kernel: …\`` },
        ),
      );
    if (this.isIdent(undefined, 1) && this.isPunct("(", 2))
      throw new SyntaxError_(
        diag(
          "PL005",
          `unknown statement \`${t.text}\``,
          { loc },
          { expected, hint: `a step puts \`:\` after its actor: \`${t.text}: ${this.peek(1).text}(…)\`` },
        ),
      );
    throw new SyntaxError_(
      diag(
        "PL005",
        `unknown statement \`${t.text}\``,
        { loc },
        { expected, hint: didYouMean(t.text, STATEMENT_KEYWORDS) },
      ),
    );
  }

  /** The rest of the current line's tokens as text (for hints). */
  private lineText(): string {
    const parts: string[] = [];
    for (let i = this.pos; i < this.toks.length; i++) {
      const tk = this.toks[i];
      if (tk.kind === "newline" || tk.kind === "eof") break;
      parts.push((tk.spaceBefore && parts.length ? " " : "") + tk.text);
    }
    return parts.join("");
  }

  private scenarioStmt(): Statement {
    const kw = this.next();
    const t = this.peek();
    if (t.kind !== "str")
      this.fail("the scenario's title in double quotes", 'scenario "what this scenario shows"');
    this.next();
    this.endOfStatement("the title");
    return { kind: "scenario", id: this.id(this.loc(kw, t)), title: t.str ?? "" };
  }

  private kernelStmt(): Statement {
    const kw = this.next();
    const version = this.word("a kernel version: linux-6.18");
    this.endOfStatement("the kernel version");
    return { kind: "kernel", id: this.id(this.loc(kw, this.prev())), version };
  }

  private settings(): Setting[] {
    const out: Setting[] = [];
    while (!this.atEol()) {
      const start = this.peek();
      const key = this.word("a setting `key=value`, e.g. memory=4G");
      if (!this.isPunct("=")) this.fail("`=` and a value", `write \`${key.name}=VALUE\``);
      this.next();
      const value = this.expr();
      out.push({ kind: "setting", id: this.id(this.loc(start, this.prev())), key, value });
    }
    return out;
  }

  private machineStmt(): Statement {
    const kw = this.next();
    const settings = this.settings();
    return { kind: "machine", id: this.id(this.loc(kw, this.prev())), settings };
  }

  private mountStmt(): Statement {
    const kw = this.next();
    const fs = this.name(
      "a file-system kind: ext4, xfs, btrfs, tmpfs, hugetlbfs or fsdax",
      "mount ext4 /data",
    );
    const t = this.peek();
    if (t.kind !== "path") this.fail("an absolute path: the mount point", `mount ${fs.name} /data`);
    this.next();
    const path = { kind: "path" as const, id: this.id(this.loc(t, t)), value: t.str ?? t.text };
    this.endOfStatement("the mount point");
    return { kind: "mount", id: this.id(this.loc(kw, this.prev())), fs, path };
  }

  private processStmt(): Statement {
    const kw = this.next();
    const name = this.name("a process name", "process A");
    const settings = this.settings();
    return { kind: "process", id: this.id(this.loc(kw, this.prev())), name, settings };
  }

  private step(): Statement {
    const start = this.peek();
    const actor = this.name("an actor");
    this.next(); // ':'
    let binding: Name | null = null;
    if (this.isIdent() && this.isPunct("=", 1)) {
      binding = this.name("a binding name");
      this.next(); // '='
    }
    const t = this.peek();
    if (t.kind !== "ident")
      this.fail("a call, e.g. `mmap(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`");
    if (!this.isPunct("(", 1)) {
      this.next();
      this.fail("`(`", `a step calls something: \`${actor.name}: ${t.text}(…)\``);
    }
    const call = this.call();
    let expect: Expectation | null = null;
    if (this.isPunct("=")) {
      this.next();
      expect = this.expectation();
    } else if (this.isPunct("==")) {
      this.fail("`=` before an expected result", "an expectation is written `= value` (one `=`)");
    }
    this.endOfStatement("the step");
    return { kind: "step", id: this.id(this.loc(start, this.prev())), actor, binding, call, expect };
  }

  private expectation(): Expectation {
    const t = this.peek();
    if (this.isIdent("ok") && (this.peek(1).kind === "newline" || this.peek(1).kind === "eof")) {
      this.next();
      return { kind: "expect_ok", id: this.id(this.loc(t, t)) };
    }
    if (this.atEol()) this.fail("an expected result: a number, `-ERRNO` or `ok`");
    const value = this.expr();
    return { kind: "expect_value", id: this.id(this.loc(t, this.prev())), value };
  }

  private assertStmt(): Statement {
    const kw = this.next();
    if (this.atEol())
      this.fail("a condition, e.g. `load(A, buf) == 0x55`, `hazard lost_write` or `no hazards`");
    const cond = this.condition();
    this.endOfStatement("the condition");
    return { kind: "assert", id: this.id(this.loc(kw, this.prev())), cond };
  }

  private condition(): Condition {
    const t = this.peek();
    if (this.isIdent("no") && this.isIdent("hazards", 1)) {
      this.next();
      const e = this.next();
      return { kind: "no_hazards", id: this.id(this.loc(t, e)) };
    }
    if (this.isIdent("no") && this.isIdent("hazard", 1)) {
      this.next();
      this.next();
      if (this.atEol()) {
        return { kind: "no_hazards", id: this.id(this.loc(t, this.prev())) };
      }
      const hazard = this.name("a hazard name");
      return { kind: "hazard", id: this.id(this.loc(t, this.prev())), hazard, negated: true };
    }
    if (this.isIdent("hazard") && this.isIdent(undefined, 1)) {
      this.next();
      const hazard = this.name("a hazard name");
      return { kind: "hazard", id: this.id(this.loc(t, this.prev())), hazard, negated: false };
    }
    if (this.isPunct("!")) {
      this.next();
      const operand = this.nested(() => this.condition());
      return { kind: "not", id: this.id(this.loc(t, this.prev())), operand };
    }
    const left = this.expr();
    const op = this.peek();
    if (op.kind === "punct" && (COMPARE_OPS as readonly string[]).includes(op.text)) {
      this.next();
      const right = this.expr();
      return {
        kind: "compare",
        id: this.id(this.loc(t, this.prev())),
        op: op.text as CompareOp,
        left,
        right,
      };
    }
    if (this.isPunct("=")) this.fail("a comparison: ==, !=, <, <=, > or >=", "compare with `==`, not `=`");
    return { kind: "truthy", id: this.id(this.loc(t, this.prev())), expr: left };
  }

  // --- expressions ----------------------------------------------------------------------

  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_NESTING) {
      const t = this.peek();
      this.depth--;
      throw new SyntaxError_(
        diag(
          "PL006",
          `expression nested more than ${MAX_NESTING} levels deep`,
          { loc: this.loc(t, t) },
          { hint: "split it up" },
        ),
      );
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private expr(): Expr {
    return this.nested(() => {
      const start = this.peek();
      let left = this.sum();
      while (this.isPunct("|")) {
        this.next();
        const right = this.sum();
        left = { kind: "binary", id: this.id(this.loc(start, this.prev())), op: "|", left, right };
      }
      return left;
    });
  }

  private sum(): Expr {
    const start = this.peek();
    let left = this.unary();
    while (this.isPunct("+") || this.isPunct("-")) {
      const op = this.next().text as "+" | "-";
      const right = this.unary();
      left = { kind: "binary", id: this.id(this.loc(start, this.prev())), op, left, right };
    }
    return left;
  }

  private unary(): Expr {
    const t = this.peek();
    if (this.isPunct("-")) {
      this.next();
      const operand = this.nested(() => this.unary());
      return { kind: "neg", id: this.id(this.loc(t, this.prev())), operand };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "num":
        this.next();
        return { kind: "num", id: this.id(this.loc(t, t)), value: t.num ?? 0, text: t.text };
      case "str":
        this.next();
        return { kind: "str", id: this.id(this.loc(t, t)), value: t.str ?? "" };
      case "path":
        this.next();
        return { kind: "path", id: this.id(this.loc(t, t)), value: t.str ?? t.text };
      case "ident":
        if (this.isPunct("(", 1)) return this.call();
        this.next();
        return { kind: "name", id: this.id(this.loc(t, t)), name: t.text };
      case "punct":
        if (t.text === "(") {
          this.next();
          const e = this.nested(() => this.expr());
          this.expectPunct(")", "`)`");
          return e;
        }
    }
    this.fail("a value: a number, a name, a string or an observer such as load(A, buf)");
  }

  private call(): Call {
    const t = this.peek();
    const callee = this.name("a call name");
    this.next(); // '('
    const args: Expr[] = [];
    if (!this.isPunct(")")) {
      for (;;) {
        if (this.atEol()) this.fail("`)`", `close the argument list of \`${callee.name}(\``);
        args.push(this.expr());
        if (this.isPunct(",")) {
          this.next();
          continue;
        }
        if (this.isPunct(")")) break;
        this.fail("`,` or `)`");
      }
    }
    this.next(); // ')'
    return { kind: "call", id: this.id(this.loc(t, this.prev())), callee, args };
  }
}
