/**
 * The scenario checker: one pass over a parsed scenario that reports every
 * problem it finds (never throws) — undefined names, wrong arity, unknown
 * calls, flags, errnos, hazards, mount kinds and settings with "did you
 * mean", flags of the wrong family, bad sizes, a machine the model would
 * refuse — and resolves every name for the runner.
 *
 * Names: a *process* is declared by `process NAME` or `NAME = fork()`; a
 * *binding* by `NAME = call(...)` in any process, visible to the whole
 * scenario from the next line on; *constants* are flag and errno names
 * (vocab.ts), `NULL`, `true`, `false`; *symbols* are zone and migratetype
 * names, meaningful next to zone() and migratetype().
 */
import type { MachineConfigInput } from "../kernel/config.js";
import type { SpawnOptions } from "../kernel/machine.js";
import type { Loc, Name, NodeId, Program, SourceMap, Statement, StepStmt } from "./ast.js";
import { CALL_NAMES, CALLS, type CallerClass, type CallSpec, isCallName, isObserverName } from "./calls.js";
import { type Resolved, Scope } from "./scope.js";
import { SettingsChecker } from "./settings.js";
import { Typer } from "./typing.js";

export type { Resolved } from "./scope.js";
import { diag, type Diagnostic, type DiagnosticCode, sortDiagnostics } from "./diagnostics.js";
import { didYouMean } from "./suggest.js";
import {
  isKernelActor,
  KERNEL_ACTOR_NAMES,
  KERNEL_ACTORS,
  KERNEL_VERSIONS,
  MOUNT_KINDS,
  RESERVED_NAMES,
} from "./vocab.js";

export interface CheckedScenario {
  program: Program;
  sourceMap: SourceMap;
  /** every problem found, sorted by position; the scenario may run only if empty */
  diagnostics: Diagnostic[];
  title: string | null;
  /** the machine the scenario asks for (defaults filled in by the kernel) */
  config: MachineConfigInput;
  /** name expression id → what it resolved to */
  names: Map<NodeId, Resolved>;
  /** process statement id → its spawn options */
  spawn: Map<NodeId, SpawnOptions>;
}

export interface CheckOptions {
  /** names to accept without a definition (declared by lines that failed to parse) */
  assumeDefined?: readonly string[];
}

export function check(
  program: Program,
  sourceMap: SourceMap = new Map(),
  opts: CheckOptions = {},
): CheckedScenario {
  return new Checker(program, sourceMap, new Set(opts.assumeDefined ?? [])).run();
}

class Checker {
  private readonly ds: Diagnostic[] = [];
  private readonly spawn = new Map<NodeId, SpawnOptions>();
  private readonly scope: Scope;
  private readonly typer: Typer;
  private readonly settings = new SettingsChecker(this);
  private readonly mounts = new Set<string>();
  private title: string | null = null;
  private seenScenario = false;
  private seenKernel = false;
  private firstRunStatement: Statement | null = null;
  private lastMachine: Statement | null = null;

  constructor(
    private readonly program: Program,
    private readonly sourceMap: SourceMap,
    assumed: Set<string>,
  ) {
    this.scope = new Scope(this, assumed);
    this.typer = new Typer(this, this.scope);
  }

  run(): CheckedScenario {
    for (const s of this.program.statements) {
      if (s.kind === "process") this.scope.declaredAnywhere.set(s.name.name, this.line(s.id));
      if (s.kind === "step" && s.binding && !this.scope.declaredAnywhere.has(s.binding.name))
        this.scope.declaredAnywhere.set(s.binding.name, this.line(s.id));
    }
    for (const s of this.program.statements) this.statement(s);
    this.settings.finish(this.lastMachine ?? this.program);
    const cfg = this.settings.configInput();
    return {
      program: this.program,
      sourceMap: this.sourceMap,
      diagnostics: sortDiagnostics(this.ds),
      title: this.title,
      config: cfg,
      names: this.scope.names,
      spawn: this.spawn,
    };
  }

  // --- helpers -------------------------------------------------------------------------

  private loc(id: NodeId): Loc | undefined {
    return this.sourceMap.get(id);
  }
  line(id: NodeId): number | undefined {
    return this.sourceMap.get(id)?.line;
  }
  report(
    code: DiagnosticCode,
    node: { id: NodeId },
    message: string,
    extra: { expected?: string; hint?: string } = {},
  ): void {
    this.ds.push(diag(code, message, { loc: this.loc(node.id), node: node.id }, extra));
  }
  private atLine(id: NodeId): string {
    const l = this.line(id);
    return l === undefined ? "" : ` at line ${l}`;
  }

  // --- statements ------------------------------------------------------------------------

  private statement(s: Statement): void {
    switch (s.kind) {
      case "scenario":
        if (this.seenScenario)
          this.report("PL305", s, "a second `scenario` statement", { hint: "one title per file" });
        else this.title = s.title;
        this.seenScenario = true;
        return;
      case "kernel":
        this.setupOrder(s, "kernel");
        if (this.seenKernel) this.report("PL305", s, "a second `kernel` statement");
        this.seenKernel = true;
        if (!(KERNEL_VERSIONS as readonly string[]).includes(s.version.name))
          this.report(
            "PL304",
            s.version,
            `the model implements ${KERNEL_VERSIONS.join(", ")}, not \`${s.version.name}\``,
            {
              expected: KERNEL_VERSIONS.join(", "),
              hint: didYouMean(s.version.name, KERNEL_VERSIONS) ?? "drop the line: linux-6.18 is the default",
            },
          );
        return;
      case "machine":
        this.setupOrder(s, "machine");
        this.lastMachine = s;
        for (const st of s.settings) this.settings.machine(st);
        return;
      case "mount":
        this.firstRunStatement ??= s;
        if (!(MOUNT_KINDS as readonly string[]).includes(s.fs.name))
          this.report("PL108", s.fs, `unknown file-system kind \`${s.fs.name}\``, {
            expected: MOUNT_KINDS.join(", "),
            hint: didYouMean(s.fs.name, MOUNT_KINDS),
          });
        if (!s.path.value.startsWith("/"))
          this.report("PL203", s.path, `the mount point must be an absolute path, not \`${s.path.value}\``);
        else if (this.mounts.has(s.path.value))
          this.report("PL305", s.path, `\`${s.path.value}\` is mounted twice`);
        this.mounts.add(s.path.value);
        return;
      case "process":
        this.firstRunStatement ??= s;
        this.scope.declareProcess(s.name, s.id);
        this.spawn.set(s.id, this.settings.process(s.settings));
        return;
      case "step":
        this.firstRunStatement ??= s;
        this.step(s);
        return;
      case "assert":
        this.firstRunStatement ??= s;
        this.typer.condition(s.cond);
        return;
    }
  }

  private setupOrder(s: Statement, what: string): void {
    const first = this.firstRunStatement;
    if (first)
      this.report("PL306", s, `\`${what}\` after the scenario started`, {
        expected: `${what} before the first process, mount, step or assert${this.atLine(first.id)}`,
        hint: `move it up: the machine boots before anything runs`,
      });
  }

  // --- steps -----------------------------------------------------------------------------------------

  private actorClass(actor: Name): CallerClass | null {
    if (isKernelActor(actor.name)) return KERNEL_ACTORS[actor.name].class;
    const p = this.scope.processes.get(actor.name);
    if (p) {
      if (p.exitedAt !== undefined)
        this.report("PL112", actor, `process \`${actor.name}\` exited at line ${p.exitedAt}`, {
          hint: "a process makes no calls after exit()",
        });
      this.scope.names.set(actor.id, { kind: "process", name: actor.name });
      return "process";
    }
    if (this.scope.assumed.has(actor.name)) return null;
    const later = this.scope.declaredAnywhere.get(actor.name);
    if (this.scope.declaredAnywhere.has(actor.name))
      this.report("PL101", actor, `process \`${actor.name}\` is used before it is declared`, {
        hint: later !== undefined ? `it is declared at line ${later}` : undefined,
      });
    else
      this.report("PL101", actor, `unknown process or actor \`${actor.name}\``, {
        expected: `a process declared with \`process NAME\` or a kernel actor (${KERNEL_ACTOR_NAMES.join(", ")})`,
        hint:
          didYouMean(actor.name, [...this.scope.processes.keys(), ...KERNEL_ACTOR_NAMES]) ??
          ((RESERVED_NAMES as readonly string[]).includes(actor.name)
            ? undefined
            : `declare it: \`process ${actor.name}\``),
      });
    return null;
  }

  private step(s: StepStmt): void {
    const cls = this.actorClass(s.actor);
    const callee = s.call.callee.name;
    let spec: CallSpec | null = null;
    if (!isCallName(callee)) {
      const asObserver = isObserverName(callee);
      this.report("PL103", s.call.callee, `unknown call \`${callee}\``, {
        expected: "a system call, kernel function or device access from the call table (docs/language.md)",
        hint: asObserver
          ? `\`${callee}\` is an observer: use it in an assert, e.g. \`assert ${callee}(A, buf) == …\``
          : didYouMean(callee, CALL_NAMES),
      });
      for (const a of s.call.args) this.typer.expr(a);
    } else {
      spec = CALLS[callee];
      if (cls && cls !== spec.caller) this.wrongCaller(s, callee, spec, cls);
      this.typer.args(s.call, spec);
    }
    if (s.expect?.kind === "expect_value") this.typer.intExpr(s.expect.value, "the expected result");
    if (s.binding) this.bind(s, spec);
    if (callee === "exit" && cls === "process") {
      const p = this.scope.processes.get(s.actor.name);
      if (p) p.exitedAt = this.line(s.id) ?? 0;
    }
  }

  private wrongCaller(s: StepStmt, callee: string, spec: CallSpec, cls: CallerClass): void {
    const example =
      spec.caller === "process"
        ? `a process makes system calls: \`A: ${callee}(…)\``
        : spec.caller === "device"
          ? `a device does DMA: \`dev: ${callee}(…)\``
          : `the kernel or a driver calls it: \`kernel: ${callee}(…)\` or \`vfio: ${callee}(…)\`${spec.args[0]?.kind === "process" ? " (the process goes first)" : ""}`;
    const who = cls === "process" ? `process \`${s.actor.name}\`` : `\`${s.actor.name}\``;
    this.report("PL202", s.actor, `${who} cannot call \`${callee}\``, { hint: example });
  }

  private bind(s: StepStmt, spec: CallSpec | null): void {
    const b = s.binding!;
    if (!spec) {
      // an unknown call was reported: its result may be a process or a value, so accept both silently
      this.scope.assumed.add(b.name);
      return;
    }
    if (spec.result === "process") {
      if (this.scope.declarable(b, "process")) {
        this.scope.processes.set(b.name, { line: this.line(s.id) });
        this.scope.names.set(b.id, { kind: "process", name: b.name });
      }
      return;
    }
    if (!this.scope.declarable(b, "binding")) return;
    this.scope.bindings.set(b.name, {
      result: spec.result,
      handle: spec.handle,
      line: this.line(s.id),
      call: s.call.callee.name,
    });
    this.scope.names.set(b.id, { kind: "binding", name: b.name });
  }
}
