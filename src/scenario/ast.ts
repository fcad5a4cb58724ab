/**
 * The scenario AST: one intermediate representation for the parser, the
 * checker, the printer and the runner (Quint's shape: discriminated unions
 * with a `kind` and a numeric `id` per node; source positions live beside
 * the tree in a SourceMap keyed by id, so a tree built by a program — the
 * JSON form — needs no fake positions).
 *
 * Vocabulary: a *statement* is one line; a *step* is a statement that makes
 * an actor (a process, the kernel, a driver or a device) call something; an
 * *observer* is a side-effect-free function used in expressions
 * (`load(A, buf)`, `zone(A, buf)`); a *binding* names a step's result.
 */

export type NodeId = number;

/** A source span: 1-based line and column, end exclusive. */
export interface Loc {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

/** Node id → position. Absent for trees that did not come from text. */
export type SourceMap = Map<NodeId, Loc>;

/** A name as written: an actor, a binding, a process, a key, a hazard. */
export interface Name {
  kind: "name";
  id: NodeId;
  name: string;
}

// --- expressions ----------------------------------------------------------------

/** An integer literal; `text` keeps the spelling (`4K`, `0xaa`) for printing. */
export interface NumLit {
  kind: "num";
  id: NodeId;
  value: number;
  text?: string;
}
export interface StrLit {
  kind: "str";
  id: NodeId;
  value: string;
}
/** A bare absolute path: `/data/f` (mount points, writeback targets). */
export interface PathLit {
  kind: "path";
  id: NodeId;
  value: string;
}
export interface Neg {
  kind: "neg";
  id: NodeId;
  operand: Expr;
}
export const BINARY_OPS = ["+", "-", "|"] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
export interface Binary {
  kind: "binary";
  id: NodeId;
  op: BinaryOp;
  left: Expr;
  right: Expr;
}
/** `callee(args)`: in a step, the call; in an expression, an observer. */
export interface Call {
  kind: "call";
  id: NodeId;
  callee: Name;
  args: Expr[];
}

export type Expr = NumLit | StrLit | PathLit | Name | Neg | Binary | Call;

// --- conditions (assert) ------------------------------------------------------------

export const COMPARE_OPS = ["==", "!=", "<", "<=", ">", ">="] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

export interface Compare {
  kind: "compare";
  id: NodeId;
  op: CompareOp;
  left: Expr;
  right: Expr;
}
/** A boolean observer on its own: `assert anon_exclusive(A, buf)`. */
export interface Truthy {
  kind: "truthy";
  id: NodeId;
  expr: Expr;
}
export interface Not {
  kind: "not";
  id: NodeId;
  operand: Condition;
}
/** `hazard NAME` (present) or `no hazard NAME` (absent). */
export interface HazardCond {
  kind: "hazard";
  id: NodeId;
  hazard: Name;
  negated: boolean;
}
/** `no hazards` */
export interface NoHazards {
  kind: "no_hazards";
  id: NodeId;
}

export type Condition = Compare | Truthy | Not | HazardCond | NoHazards;

// --- statements ---------------------------------------------------------------------

/** `= ok`: any result ≥ 0. */
export interface ExpectOk {
  kind: "expect_ok";
  id: NodeId;
}
/** `= value`: the result equals the value (`0`, `-EFAULT`, `512`, a binding). */
export interface ExpectValue {
  kind: "expect_value";
  id: NodeId;
  value: Expr;
}
export type Expectation = ExpectOk | ExpectValue;

/** `key=value` on a machine or process line. */
export interface Setting {
  kind: "setting";
  id: NodeId;
  key: Name;
  value: Expr;
}

export interface ScenarioStmt {
  kind: "scenario";
  id: NodeId;
  title: string;
}
export interface KernelStmt {
  kind: "kernel";
  id: NodeId;
  version: Name;
}
export interface MachineStmt {
  kind: "machine";
  id: NodeId;
  settings: Setting[];
}
export interface MountStmt {
  kind: "mount";
  id: NodeId;
  fs: Name;
  path: PathLit;
}
export interface ProcessStmt {
  kind: "process";
  id: NodeId;
  name: Name;
  settings: Setting[];
}
/** `ACTOR: [binding =] call(args) [= expectation]` */
export interface StepStmt {
  kind: "step";
  id: NodeId;
  actor: Name;
  binding: Name | null;
  call: Call;
  expect: Expectation | null;
}
export interface AssertStmt {
  kind: "assert";
  id: NodeId;
  cond: Condition;
}

export type Statement =
  ScenarioStmt | KernelStmt | MachineStmt | MountStmt | ProcessStmt | StepStmt | AssertStmt;
export type StatementKind = Statement["kind"];

/** A whole scenario file. */
export interface Program {
  kind: "program";
  id: NodeId;
  statements: Statement[];
}

export type Node = Program | Statement | Setting | Expectation | Condition | Expr;

/** Every child node of a node, in source order (for walks over the tree). */
export function children(n: Node): Node[] {
  switch (n.kind) {
    case "program":
      return n.statements;
    case "scenario":
      return [];
    case "kernel":
      return [n.version];
    case "machine":
      return n.settings;
    case "mount":
      return [n.fs, n.path];
    case "process":
      return [n.name, ...n.settings];
    case "step":
      return [n.actor, ...(n.binding ? [n.binding] : []), n.call, ...(n.expect ? [n.expect] : [])];
    case "assert":
      return [n.cond];
    case "setting":
      return [n.key, n.value];
    case "expect_ok":
      return [];
    case "expect_value":
      return [n.value];
    case "compare":
      return [n.left, n.right];
    case "truthy":
      return [n.expr];
    case "not":
      return [n.operand];
    case "hazard":
      return [n.hazard];
    case "no_hazards":
      return [];
    case "num":
    case "str":
    case "path":
    case "name":
      return [];
    case "neg":
      return [n.operand];
    case "binary":
      return [n.left, n.right];
    case "call":
      return [n.callee, ...n.args];
  }
}

/** The title of a scenario (its `scenario` statement), or null. */
export function titleOf(p: Program): string | null {
  for (const s of p.statements) if (s.kind === "scenario") return s.title;
  return null;
}
