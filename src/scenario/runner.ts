/**
 * The runner: executes a checked scenario on a fresh Machine, statement by
 * statement, and records per step the result, whether its expectation or
 * assertion held, and the kernel trace events it caused — each naming the
 * kernel rule (file and function) that decided it. Hazard detectors
 * (src/observe) watch the same events.
 *
 * The run stops at the first run-time error (PL5xx: a call the model does
 * not implement yet, a halted machine, a limit): the steps after it are
 * recorded as not run. Failed expectations and asserts do not stop it.
 * Same scenario and seed → the same result, byte for byte.
 *
 * Hazards: the detectors of src/observe see every kernel event and the end
 * of every step. The scenario *ends* after its last statement that is not
 * an assert: the end-of-run checks (pins still held, device data never
 * written back) run then, so the asserts that close a scenario see them
 * (`assert hazard pin_leak`). A run stopped by an error skips them.
 */
import { NondetChoices } from "../kernel/nondet.js";
import { DEFAULT_CONFIG, type MachineConfig } from "../kernel/config.js";
import { pin_table } from "../kernel/drivers/pin_table.js";
import { KernelOops, PinlabError } from "../kernel/errors.js";
import { PAGE_SIZE } from "../kernel/include/mmzone.js";
import { Machine } from "../kernel/machine.js";
import type { TraceEvent } from "../kernel/tracepoint.js";
import { DETECTORS } from "../observe/detectors.js";
import {
  type DetectorFactory,
  HAZARD_NAMES,
  type HazardFinding,
  type HazardName,
} from "../observe/hazard.js";
import { HazardWatch } from "../observe/watch.js";
import type {
  AssertStmt,
  Condition,
  Expr,
  MountStmt,
  NodeId,
  ProcessStmt,
  Statement,
  StepStmt,
} from "./ast.js";
import {
  type ArgSpec,
  CALLS,
  type CallName,
  isCallName,
  isObserverName,
  OBSERVERS,
  type ResultKind,
} from "./calls.js";
import type { CheckedScenario, Resolved } from "./checker.js";
import { orInt } from "./constant.js";
import { diag, type Diagnostic, type DiagnosticCode } from "./diagnostics.js";
import {
  type CallContext,
  ENTRY_POINTS,
  MOUNTS,
  NOT_YET,
  OBSERVER_IMPLS,
  PAGE_BUDGET,
  RunError,
} from "./entry_points.js";
import { printExpectation, printExpr, printStatement } from "./print.js";
import {
  compareValues,
  formatValue,
  int,
  type Radix,
  type Value,
  valueJson,
  type ValueJson,
} from "./value.js";
import type { MountKind } from "./vocab.js";

export interface RunOptions {
  /** overrides the machine's seed (`machine seed=N`, default 1) */
  seed?: number;
  /** the most statements a run executes (default 100000) */
  maxSteps?: number;
  /** the most pages one step may touch (default 2^20, 4 GiB of 4K pages) */
  maxPagesPerStep?: number;
  /** trace events kept per step; the rest are counted (default 10000) */
  maxEventsPerStep?: number;
  /** the most 4K pages the machine's hugetlb pools may hold at boot (default 2^24, 64 GiB) */
  maxBootPages?: number;
  /** hazard detectors to run (default: every registered detector, observe/detectors.ts) */
  detectors?: readonly DetectorFactory[];
  /**
   * occurrences ("name#n") of the kernel's nondeterministic choices that take the unusual
   * outcome (src/kernel/nondet.ts); by default every choice takes the usual one
   */
  unusual?: ReadonlySet<string>;
}

export const DEFAULT_LIMITS = {
  maxSteps: 100_000,
  maxPagesPerStep: 1 << 20,
  maxEventsPerStep: 10_000,
  maxBootPages: 1 << 24,
} as const;

/** ok: ran (and met its expectation); failed: an expectation or assert did not hold; error: PL5xx; not-run: after an error. */
export type StepStatus = "ok" | "failed" | "error" | "not-run";

export interface StepResult {
  /** 1-based, in execution order */
  step: number;
  node: NodeId;
  line?: number;
  kind: "mount" | "process" | "call" | "assert";
  /** the statement, as the printer spells it */
  text: string;
  actor?: string;
  call?: string;
  result?: ValueJson;
  /** `= value` after a call: what was expected and whether it held */
  expect?: { expected: string; met: boolean };
  /** an assert: whether it held, and the values it compared */
  assert?: { met: boolean; detail: string };
  events: TraceEvent[];
  /** events beyond maxEventsPerStep, counted but not kept */
  eventsDropped: number;
  error?: Diagnostic;
  status: StepStatus;
}

/** A process of the run: declared, forked, and the pid the model gave it. */
export interface ProcessInfo {
  name: string;
  pid: number;
  /** the step that declared or forked it */
  step: number;
}

export interface RunSummary {
  steps: number;
  expectations: number;
  expectationsFailed: number;
  asserts: number;
  assertsFailed: number;
  errors: number;
  notRun: number;
  /** hazards found */
  hazards: number;
  /** hazards found whose name no `assert hazard NAME` of the scenario expects */
  hazardsUnexpected: number;
}

/** MachineConfig as a result reports it. */
export type ResultMachine = Omit<MachineConfig, "nodes"> & { nodes?: number };

function resultMachine(c: MachineConfig): ResultMachine {
  if (c.nodes > 1) return c;
  const { nodes: _one, ...rest } = c;
  return rest;
}

export interface ScenarioResult {
  title: string | null;
  seed: number;
  /** the machine's configuration; `nodes` only when there are several, so one-node results read as before NUMA */
  machine: ResultMachine | null;
  /** every process, in pid order */
  processes: ProcessInfo[];
  steps: StepResult[];
  /** what the detectors found, in the order they found it */
  hazards: HazardFinding[];
  /** the hazards the scenario expects: named by an `assert hazard NAME`, in HAZARDS order */
  assertedHazards: HazardName[];
  /** run-time diagnostics (PL5xx) */
  diagnostics: Diagnostic[];
  summary: RunSummary;
  /**
   * every expectation and assert held, nothing failed to run (hazards do not
   * count here; `pinlab test` also fails on summary.hazardsUnexpected)
   */
  passed: boolean;
}

/** Run a scenario the checker accepted. A scenario with diagnostics is refused (PL599). */
export function run(checked: CheckedScenario, opts: RunOptions = {}): ScenarioResult {
  return new Runner(checked, opts).run();
}

class Runner {
  private readonly limits: { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };
  private m: Machine | null = null;
  private readonly steps: StepResult[] = [];
  private readonly diagnostics: Diagnostic[] = [];
  private watch: HazardWatch | null = null;
  private readonly processes: ProcessInfo[] = [];
  private readonly procs = new Map<string, number>();
  private readonly pidNames = new Map<number, string>();
  private readonly failedForks = new Map<string, number | undefined>();
  private readonly values = new Map<string, Value>();
  private readonly radix = new Map<string, Radix>();
  private current: StepResult | null = null;
  private halted = false;

  constructor(
    private readonly c: CheckedScenario,
    private readonly opts: RunOptions,
  ) {
    this.limits = {
      maxSteps: opts.maxSteps ?? DEFAULT_LIMITS.maxSteps,
      maxPagesPerStep: opts.maxPagesPerStep ?? DEFAULT_LIMITS.maxPagesPerStep,
      maxEventsPerStep: opts.maxEventsPerStep ?? DEFAULT_LIMITS.maxEventsPerStep,
      maxBootPages: opts.maxBootPages ?? DEFAULT_LIMITS.maxBootPages,
    };
  }

  private line(id: NodeId): number | undefined {
    return this.c.sourceMap.get(id)?.line;
  }

  private get hazards(): HazardFinding[] {
    return this.watch?.findings ?? [];
  }

  /** The hazards the scenario expects: those named by a positive `assert hazard NAME`. */
  private expectedHazards(): Set<HazardName> {
    const out = new Set<HazardName>();
    const visit = (c: Condition, positive: boolean) => {
      if (c.kind === "hazard" && positive !== c.negated) out.add(c.hazard.name as HazardName);
      else if (c.kind === "not") visit(c.operand, !positive);
    };
    for (const st of this.c.program.statements) if (st.kind === "assert") visit(st.cond, true);
    return out;
  }

  private result(): ScenarioResult {
    const expected = this.expectedHazards();
    const s: RunSummary = {
      steps: 0,
      expectations: 0,
      expectationsFailed: 0,
      asserts: 0,
      assertsFailed: 0,
      errors: 0,
      notRun: 0,
      hazards: this.hazards.length,
      hazardsUnexpected: this.hazards.filter((h) => !expected.has(h.hazard)).length,
    };
    for (const st of this.steps) {
      if (st.status === "not-run") s.notRun++;
      else s.steps++;
      if (st.status === "error") s.errors++;
      if (st.expect) {
        s.expectations++;
        if (!st.expect.met) s.expectationsFailed++;
      }
      if (st.assert) {
        s.asserts++;
        if (!st.assert.met) s.assertsFailed++;
      }
    }
    if (this.diagnostics.length > s.errors) s.errors = this.diagnostics.length;
    const passed = s.errors === 0 && s.notRun === 0 && s.expectationsFailed === 0 && s.assertsFailed === 0;
    return {
      title: this.c.title,
      seed: this.m?.config.seed ?? this.opts.seed ?? this.c.config.seed ?? DEFAULT_CONFIG.seed,
      machine: this.m ? resultMachine(this.m.config) : null,
      processes: [...this.processes].sort((a, b) => a.pid - b.pid),
      steps: this.steps.map(ordered),
      hazards: this.hazards,
      assertedHazards: HAZARD_NAMES.filter((h) => expected.has(h)),
      diagnostics: this.diagnostics,
      summary: s,
      passed,
    };
  }

  run(): ScenarioResult {
    if (this.c.diagnostics.length > 0) {
      this.diagnostics.push(diag("PL599", "the scenario has check errors; fix them before running"));
      return this.result();
    }
    const cfg = { ...this.c.config };
    if (this.opts.seed !== undefined) cfg.seed = this.opts.seed;
    // booting fills the hugetlb pools page by page: bound it like a step
    const poolPages = (cfg.hugetlb2M ?? 0) * 512 + (cfg.hugetlb1G ?? 0) * 262144;
    if (poolPages > this.limits.maxBootPages) {
      const machine = this.c.program.statements.find((s) => s.kind === "machine");
      this.fail(
        "PL503",
        `the hugetlb pools would hold ${poolPages} pages; the runner boots at most ${this.limits.maxBootPages}`,
        machine?.id ?? this.c.program.id,
        "lower hugetlb.2M / hugetlb.1G",
      );
      return this.result();
    }
    try {
      this.m = new Machine(cfg);
      if (this.opts.unusual) this.m.k.nondet = new NondetChoices(this.opts.unusual);
    } catch (e) {
      this.diagnostics.push(diag("PL302", e instanceof Error ? e.message : String(e)));
      return this.result();
    }
    const m = this.m;
    const watch = new HazardWatch(m, this.opts.detectors ?? DETECTORS, {
      processName: (pid) => this.pidNames.get(pid),
      lineOf: (step) => this.steps[step - 1]?.line,
    });
    this.watch = watch;
    const unsubscribe = m.k.trace.subscribe((ev) => this.onEvent(ev));
    try {
      const runnable = this.c.program.statements.filter(
        (s) => s.kind === "mount" || s.kind === "process" || s.kind === "step" || s.kind === "assert",
      );
      // the scenario ends after its last action; the asserts after it see the end-of-run checks
      let lastAction = -1;
      runnable.forEach((s, i) => {
        if (s.kind !== "assert") lastAction = i;
      });
      let stopped = false;
      let ended = false;
      const end = () => {
        ended = true;
        if (stopped) return;
        const last = this.steps.at(-1);
        watch.beginStep({
          step: last?.step ?? 0,
          ...(last?.line !== undefined ? { line: last.line } : {}),
          actor: "",
          call: "end",
        });
        watch.end();
      };
      runnable.forEach((s, i) => {
        if (i > lastAction && !ended) end();
        if (stopped) {
          this.steps.push(this.blank(s, "not-run"));
          return;
        }
        if (this.steps.length >= this.limits.maxSteps) {
          const st = this.blank(s, "error");
          st.error = this.fail("PL503", `the run reached its limit of ${this.limits.maxSteps} steps`, s.id);
          this.steps.push(st);
          stopped = true;
          return;
        }
        stopped = !this.execute(s);
      });
      if (!ended) end();
    } finally {
      unsubscribe();
    }
    for (const f of watch.failures)
      this.diagnostics.push(
        diag("PL599", `internal error in a hazard detector: ${f}`, undefined, {
          hint: "please report it with the scenario",
        }),
      );
    return this.result();
  }

  private fail(code: DiagnosticCode, message: string, node: NodeId, hint?: string): Diagnostic {
    const d = diag(code, message, { loc: this.c.sourceMap.get(node), node }, { hint });
    this.diagnostics.push(d);
    return d;
  }

  private blank(s: Statement, status: StepStatus): StepResult {
    const st: StepResult = {
      step: this.steps.length + 1,
      node: s.id,
      kind: s.kind === "step" ? "call" : (s.kind as "mount" | "process" | "assert"),
      text: printStatement(s),
      events: [],
      eventsDropped: 0,
      status,
    };
    const line = this.line(s.id);
    if (line !== undefined) st.line = line;
    if (s.kind === "step") {
      st.actor = s.actor.name;
      st.call = s.call.callee.name;
    }
    return st;
  }

  private onEvent(ev: TraceEvent): void {
    const st = this.current;
    if (st) {
      if (st.events.length < this.limits.maxEventsPerStep) st.events.push(ev);
      else st.eventsDropped++;
    }
    this.watch?.event(ev);
  }

  /** Execute one statement; false stops the run. */
  private execute(s: Statement): boolean {
    const st = this.blank(s, "ok");
    this.steps.push(st);
    this.current = st;
    this.watch?.beginStep({
      step: st.step,
      ...(st.line !== undefined ? { line: st.line } : {}),
      actor: st.actor ?? "",
      call: st.call ?? s.kind,
    });
    const m = this.m!;
    pin_table(m.k).currentStep = st.step;
    if (this.halted) {
      st.status = "error";
      st.error = this.fail("PL505", `the machine is halted: ${m.k.oops?.message ?? "kernel BUG"}`, s.id);
      return false;
    }
    let ok = true;
    try {
      switch (s.kind) {
        case "mount":
          this.mount(s, st);
          break;
        case "process":
          this.spawn(s, st);
          break;
        case "step":
          this.call(s, st);
          break;
        case "assert":
          this.assert(s, st);
          break;
      }
    } catch (e) {
      ok = false;
      st.status = "error";
      st.error = this.caught(e, s.id);
    }
    if (m.k.oops && !this.halted) {
      this.halted = true;
      if (ok) {
        st.status = "error";
        st.error = this.fail("PL505", `${m.k.oops.message}; the machine is halted`, s.id);
      }
      ok = false;
    }
    this.watch?.endStep();
    this.current = null;
    return ok;
  }

  /** Any exception from a step becomes a diagnostic; a JS stack never escapes. */
  private caught(e: unknown, node: NodeId): Diagnostic {
    if (e instanceof RunError) return this.fail(e.code, e.message, e.node ?? node, e.hint);
    if (e instanceof KernelOops) return this.fail("PL505", e.message, node);
    if (e instanceof PinlabError) return this.fail("PL504", e.message, node);
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return this.fail(
      "PL599",
      `internal error in the model: ${msg}`,
      node,
      "please report it with the scenario",
    );
  }

  // --- statements --------------------------------------------------------------------------------

  private mount(s: MountStmt, st: StepResult): void {
    const impl = MOUNTS[s.fs.name as MountKind];
    if (impl === undefined || impl === NOT_YET)
      throw new RunError(
        "PL501",
        `\`mount ${s.fs.name}\` is not implemented by the model yet`,
        "the file systems are being built (src/kernel/fs); MOUNTS in src/scenario/entry_points.ts is NOT_YET",
        s.fs.id,
      );
    const r = impl(this.m!, s.path.value);
    st.result = valueJson(int(r));
  }

  private spawn(s: ProcessStmt, st: StepResult): void {
    const pid = this.m!.spawn(s.name.name, this.c.spawn.get(s.id) ?? {});
    this.procs.set(s.name.name, pid);
    this.pidNames.set(pid, s.name.name);
    this.processes.push({ name: s.name.name, pid, step: st.step });
    st.result = valueJson(int(pid));
  }

  private call(s: StepStmt, st: StepResult): void {
    const name = s.call.callee.name;
    if (!isCallName(name)) throw new RunError("PL599", `unknown call ${name}`);
    const spec = CALLS[name];
    const impl = ENTRY_POINTS[name];
    if (impl === NOT_YET)
      throw new RunError(
        "PL501",
        `\`${name}\` is not implemented by the model yet`,
        `it is declared in the call table (${spec.kernel}); its entry point in src/scenario/entry_points.ts is NOT_YET`,
        s.call.callee.id,
      );
    const pid = spec.caller === "process" ? this.pidOf(s.actor.name) : -1;
    const args = s.call.args.map((a, i) => this.arg(a, spec.args[i]));
    const ctx: CallContext = {
      m: this.m!,
      pid,
      actor: s.actor.name,
      step: st.step,
      binding: s.binding?.name ?? null,
    };
    this.budget(name, ctx, args);
    const raw = (impl as (c: CallContext, ...a: ArgValue[]) => Value | number)(ctx, ...args);
    const value = typeof raw === "number" ? int(raw) : raw;
    if (value.kind === "int" && !Number.isSafeInteger(value.n))
      throw new RunError("PL599", `\`${name}\` returned ${value.n}, not an integer`);
    const radix = resultRadix(spec.result);
    st.result = valueJson(value, radix);
    if (s.binding) {
      const b = s.binding.name;
      if (spec.result === "process") {
        if (value.kind === "int" && value.n > 0) {
          this.procs.set(b, value.n);
          this.pidNames.set(value.n, b);
          this.processes.push({ name: b, pid: value.n, step: st.step });
        } else this.failedForks.set(b, st.line);
      } else {
        this.values.set(b, value);
        this.radix.set(b, radix);
      }
    }
    if (s.expect) {
      const n = value.kind === "int" ? value.n : NaN;
      let met: boolean;
      if (s.expect.kind === "expect_ok") met = n >= 0;
      else {
        const want = this.evalExpr(s.expect.value);
        met = want.kind === "int" && want.n === n;
      }
      st.expect = { expected: printExpectation(s.expect), met };
      if (!met) st.status = "failed";
    }
  }

  private budget(name: CallName, ctx: CallContext, args: ArgValue[]): void {
    const f = PAGE_BUDGET[name];
    if (!f) return;
    const bytes = (f as (c: CallContext, ...a: ArgValue[]) => number)(ctx, ...args);
    const pages = Math.ceil(bytes / PAGE_SIZE);
    if (pages > this.limits.maxPagesPerStep)
      throw new RunError(
        "PL503",
        `\`${name}\` would touch ${pages} pages; the runner allows ${this.limits.maxPagesPerStep} per step`,
        "raise the limit (pinlab run --max-pages N) or touch less",
      );
  }

  private assert(s: AssertStmt, st: StepResult): void {
    const r = this.cond(s.cond);
    st.assert = r;
    if (!r.met) st.status = "failed";
  }

  // --- evaluation --------------------------------------------------------------------------------

  private resolved(id: NodeId): Resolved | undefined {
    return this.c.names.get(id);
  }

  private pidOf(name: string): number {
    const pid = this.procs.get(name);
    if (pid !== undefined) return pid;
    if (this.failedForks.has(name)) {
      const l = this.failedForks.get(name);
      throw new RunError(
        "PL502",
        `process \`${name}\` does not exist: its fork${l ? ` at line ${l}` : ""} failed`,
      );
    }
    throw new RunError("PL502", `process \`${name}\` does not exist`);
  }

  private arg(e: Expr, a: ArgSpec | undefined): ArgValue {
    switch (a?.kind) {
      case "process":
        return this.pidOf(e.kind === "name" ? e.name : "?");
      case "handle":
      case "fd":
        return this.evalExpr(e);
      case "string":
      case "path":
        return e.kind === "str" || e.kind === "path" ? e.value : "";
      default:
        return this.intOf(e);
    }
  }

  private intOf(e: Expr): number {
    const v = this.evalExpr(e);
    if (v.kind !== "int")
      throw new RunError("PL506", `\`${printExpr(e)}\` is ${formatValue(v)}, not a number`);
    return v.n;
  }

  private evalExpr(e: Expr): Value {
    switch (e.kind) {
      case "num":
        return int(e.value);
      case "str":
      case "path":
        throw new RunError("PL506", `\`${printExpr(e)}\` is text, not a value`);
      case "neg":
        return int(safe(-this.intOf(e.operand), e));
      case "binary": {
        const l = this.intOf(e.left);
        const r = this.intOf(e.right);
        return int(safe(e.op === "+" ? l + r : e.op === "-" ? l - r : orInt(l, r), e));
      }
      case "name": {
        const r = this.resolved(e.id);
        if (!r) throw new RunError("PL599", `\`${e.name}\` was not resolved by the checker`);
        switch (r.kind) {
          case "binding": {
            const v = this.values.get(r.name);
            if (!v) throw new RunError("PL506", `\`${r.name}\` has no value`);
            return v;
          }
          case "process":
            return int(this.pidOf(r.name));
          case "const":
            return int(r.value);
          case "bool":
            return { kind: "bool", b: r.value };
          case "sym":
            return { kind: "sym", vocab: r.vocab, name: r.name };
        }
        break;
      }
      case "call": {
        const name = e.callee.name;
        if (!isObserverName(name)) throw new RunError("PL599", `unknown observer ${name}`);
        const spec = OBSERVERS[name];
        const args = e.args.map((a, i) => this.arg(a, spec.args[i]));
        return (OBSERVER_IMPLS[name] as (m: Machine, ...a: ArgValue[]) => Value)(this.m!, ...args);
      }
    }
  }

  private cond(c: Condition): { met: boolean; detail: string } {
    switch (c.kind) {
      case "no_hazards": {
        const n = this.hazards.length;
        return {
          met: n === 0,
          detail: n === 0 ? "no hazards" : `${n} hazard${n > 1 ? "s" : ""}: ${this.hazardList()}`,
        };
      }
      case "hazard": {
        const found = this.hazards.filter((h) => h.hazard === c.hazard.name);
        const met = c.negated ? found.length === 0 : found.length > 0;
        const detail = found.length
          ? `${c.hazard.name} found at step ${found.map((f) => f.step).join(", ")}`
          : `no ${c.hazard.name} found${this.watch?.hazards().includes(c.hazard.name) ? "" : " (no detector for it is installed)"}`;
        return { met, detail };
      }
      case "not": {
        const r = this.cond(c.operand);
        return { met: !r.met, detail: r.detail };
      }
      case "truthy": {
        const v = this.evalExpr(c.expr);
        return { met: v.kind === "bool" && v.b, detail: `${printExpr(c.expr)} is ${formatValue(v)}` };
      }
      case "compare": {
        const l = this.evalExpr(c.left);
        const r = this.evalExpr(c.right);
        const met = compareValues(c.op, l, r);
        const radix: Radix =
          this.radixOf(c.left) === "hex" || this.radixOf(c.right) === "hex" ? "hex" : "dec";
        const lt = printExpr(c.left);
        const rt = printExpr(c.right);
        const lv = formatValue(l, radix);
        const rv = formatValue(r, radix);
        const right = rv === rt ? rt : `${rt} (${rv})`;
        const detail = `${lt} is ${lv}; ${met ? "" : "expected "}${c.op} ${right}`;
        return { met, detail };
      }
    }
  }

  private hazardList(): string {
    return this.hazards.map((h) => `${h.hazard} at step ${h.step}`).join(", ");
  }

  /** Numbers from hex literals, addresses and page contents read best in hex. */
  private radixOf(e: Expr): Radix {
    if (e.kind === "num") return e.text?.startsWith("0x") ? "hex" : "dec";
    if (e.kind === "name") return this.radix.get(e.name) ?? "dec";
    if (e.kind === "call") return e.callee.name === "load" || e.callee.name === "pfn" ? "hex" : "dec";
    if (e.kind === "neg") return this.radixOf(e.operand);
    if (e.kind === "binary") return this.radixOf(e.left);
    return "dec";
  }
}

type ArgValue = number | string | Value | undefined;

/** A step with its fields in reading order (JSON output follows insertion order). */
function ordered(st: StepResult): StepResult {
  const o = { step: st.step } as StepResult;
  if (st.line !== undefined) o.line = st.line;
  o.node = st.node;
  o.kind = st.kind;
  o.text = st.text;
  o.status = st.status;
  if (st.actor !== undefined) o.actor = st.actor;
  if (st.call !== undefined) o.call = st.call;
  if (st.result) o.result = st.result;
  if (st.expect) o.expect = st.expect;
  if (st.assert) o.assert = st.assert;
  if (st.error) o.error = st.error;
  o.events = st.events;
  o.eventsDropped = st.eventsDropped;
  return o;
}

function safe(n: number, e: Expr): number {
  if (!Number.isSafeInteger(n)) throw new RunError("PL506", `\`${printExpr(e)}\` overflows (${n})`);
  return n;
}

function resultRadix(r: ResultKind): Radix {
  return r === "address" || r === "content" ? "hex" : "dec";
}
