/**
 * The checker's scope: the processes and bindings declared so far, every
 * name declared anywhere (for "used before it is defined"), the names that
 * broken lines seem to declare, and what each name expression resolved to.
 * Names are global to the scenario and visible from the line after their
 * declaration on (DESIGN.md: an address bound in B can be used by A).
 */
import type { Name, NodeId } from "./ast.js";
import type { ResultKind } from "./calls.js";
import type { DiagnosticCode } from "./diagnostics.js";
import { didYouMean } from "./suggest.js";
import type { HandleKind } from "./value.js";
import {
  FLAGS,
  isErrnoName,
  isKernelActor,
  KERNEL_ACTOR_NAMES,
  RESERVED_NAMES,
  STATEMENT_KEYWORDS,
  type SymVocab,
} from "./vocab.js";

/** What a name expression stands for, decided once by the checker. */
export type Resolved =
  | { kind: "binding"; name: string }
  | { kind: "process"; name: string }
  | { kind: "const"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "sym"; vocab: SymVocab; name: string };

/** How the checker's parts report: its diagnostics sink and the source lines. */
export interface Reporter {
  report(
    code: DiagnosticCode,
    node: { id: NodeId },
    message: string,
    extra?: { expected?: string; hint?: string },
  ): void;
  line(id: NodeId): number | undefined;
}

export interface BindingInfo {
  result: ResultKind;
  handle?: HandleKind;
  line?: number;
  call: string;
}

export class Scope {
  readonly processes = new Map<string, { line?: number; exitedAt?: number }>();
  readonly bindings = new Map<string, BindingInfo>();
  /** every name bound or declared anywhere, with its line: for "defined later" hints */
  readonly declaredAnywhere = new Map<string, number | undefined>();
  /** name expression id → what it resolved to */
  readonly names = new Map<NodeId, Resolved>();

  constructor(
    private readonly r: Reporter,
    /**
     * names to accept without a definition: declared by lines that failed
     * to parse, or bound to the result of an unknown call
     */
    readonly assumed: Set<string>,
  ) {}

  /** Problems with a name being declared (a process or a binding); true if it is usable. */
  declarable(n: Name, what: "process" | "binding"): boolean {
    const name = n.name;
    if ((RESERVED_NAMES as readonly string[]).includes(name)) {
      this.r.report("PL111", n, `\`${name}\` is reserved and cannot name a ${what}`);
      return false;
    }
    if (isKernelActor(name)) {
      this.r.report("PL111", n, `\`${name}\` is a kernel-side actor and cannot name a ${what}`, {
        hint: `kernel actors: ${KERNEL_ACTOR_NAMES.join(", ")}`,
      });
      return false;
    }
    if (what === "process" && (STATEMENT_KEYWORDS as readonly string[]).includes(name)) {
      this.r.report("PL111", n, `\`${name}\` is a statement keyword and cannot name a process`);
      return false;
    }
    if (FLAGS.has(name) || isErrnoName(name)) {
      this.r.report("PL111", n, `\`${name}\` is a constant and cannot name a ${what}`, {
        hint: "pick another name",
      });
      return false;
    }
    if (this.processes.has(name)) {
      this.r.report("PL110", n, `\`${name}\` is already a process${this.declLine(name)}`, {
        hint: what === "binding" ? "pick another name for the result" : "pick another process name",
      });
      return false;
    }
    if (what === "process" && this.bindings.has(name)) {
      this.r.report("PL110", n, `\`${name}\` is already bound to a result${this.declLine(name)}`);
      return false;
    }
    return true;
  }

  declLine(name: string): string {
    const l = this.processes.get(name)?.line ?? this.bindings.get(name)?.line;
    return l === undefined ? "" : ` (line ${l})`;
  }

  declareProcess(n: Name, stmt: NodeId): void {
    if (this.declarable(n, "process")) this.processes.set(n.name, { line: this.r.line(stmt) });
  }

  unknownName(n: Name, candidates: Iterable<string>, what = "name"): void {
    if (this.assumed.has(n.name)) return;
    const later = this.declaredAnywhere.get(n.name);
    if (this.declaredAnywhere.has(n.name)) {
      this.r.report("PL102", n, `\`${n.name}\` is used before it is defined`, {
        hint: later !== undefined ? `it is defined at line ${later}; move this after it` : "define it first",
      });
      return;
    }
    this.r.report("PL102", n, `undefined ${what} \`${n.name}\``, { hint: didYouMean(n.name, candidates) });
  }

  knownNames(): string[] {
    return [...this.bindings.keys(), ...this.processes.keys()];
  }

  /** Is this a name that resolves without a report? */
  known(name: string): boolean {
    return (
      this.bindings.has(name) ||
      this.processes.has(name) ||
      FLAGS.has(name) ||
      isErrnoName(name) ||
      (RESERVED_NAMES as readonly string[]).includes(name)
    );
  }
}
