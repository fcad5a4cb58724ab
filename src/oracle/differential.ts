/**
 * One differential run: a checked scenario on the model and, statement by
 * statement, on this machine's kernel through a fresh native runner; the
 * outcomes compared as ./compare.ts says. A run ends at the first
 * divergence (later steps would only echo it), at a fault of the run
 * (hang, crash, memory bound) or when the kernel side meets something it
 * cannot do after all. The runner is always closed and its journal
 * checked, so nothing the run made outlives it.
 */
import type { CheckedScenario } from "../scenario/checker.js";
import type { RunOptions } from "../scenario/runner.js";
import { compareStep, type StepComparison } from "./compare.js";
import { KernelSide, type KernelStep } from "./kernel_side.js";
import { runModel } from "./model_side.js";
import { NativeRunner, type NativeRunnerOptions, OracleError, type RunnerExit } from "./native.js";
import { type NotPortableReason, portability } from "./portable.js";
import { runnables } from "./scenario_walk.js";

export type OracleStatus =
  /** every compared step agreed */
  | "agree"
  | "diverge"
  /** the scenario uses something the live kernel cannot be driven to (not a failure) */
  | "not-portable"
  /** the run itself failed: a hang, a crash, the memory bound, the runner */
  | "fault"
  /** the live machine cannot be set up as the scenario's machine line says (not a failure) */
  | "unavailable";

export interface OracleFault {
  kind: "hang" | "crash" | "memory" | "runner";
  detail: string;
  step?: number;
  line?: number;
}

export interface OracleRun {
  title: string | null;
  status: OracleStatus;
  /** every statement compared, in order, up to where the run ended */
  steps: StepComparison[];
  divergence?: StepComparison;
  reasons?: NotPortableReason[];
  fault?: OracleFault;
  /** notes of the portability check (differences that do not prevent the comparison) */
  notes: string[];
  /** what had to be undone after the runner ended (empty when it cleaned up itself) */
  residue: string[];
  kernel?: string;
  /** the run directory of the kernel side (removed when the run ends) */
  rundir?: string;
}

export interface OracleOptions extends RunOptions {
  runner?: NativeRunnerOptions;
  /** each kernel step's deadline in ms (default: the runner's, 10 s); a step past it is a hang */
  stepTimeoutMs?: number;
  /** called after each kernel step (tests use it to kill the runner mid-scenario) */
  afterKernelStep?: (step: number, runner: NativeRunner) => void | Promise<void>;
}

/** What the supervisor had to undo: anything here means the runner did not clean up itself. */
function residueOf(exit: RunnerExit): string[] {
  const r = exit.recovery;
  const out: string[] = [];
  for (const p of r.survivors) out.push(`process ${p} survived`);
  for (const f of r.failures) out.push(`cleanup failed: ${f}`);
  return out;
}

/** Run one scenario on both sides and compare. Never throws for a kernel-side problem. */
export async function oracleRun(c: CheckedScenario, opts: OracleOptions = {}): Promise<OracleRun> {
  const title = c.program.statements.find((s) => s.kind === "scenario")?.title ?? null;
  const port = portability(c);
  if (!port.portable)
    return { title, status: "not-portable", steps: [], reasons: port.reasons, notes: [], residue: [] };
  const model = runModel(c, opts);
  const stmts = runnables(c);
  const steps: StepComparison[] = [];
  let runner: NativeRunner;
  try {
    runner = await NativeRunner.start(opts.runner);
  } catch (e) {
    return {
      title,
      status: "fault",
      steps,
      fault: { kind: "runner", detail: e instanceof Error ? e.message : String(e) },
      notes: port.notes,
      residue: [],
    };
  }
  const out: OracleRun = {
    title,
    status: "agree",
    steps,
    notes: port.notes,
    residue: [],
    kernel: runner.hello.kernel,
    rundir: runner.rundir,
  };
  try {
    const ks = new KernelSide(runner, c, opts.stepTimeoutMs);
    const unavailable = await ks.setup(port.setup);
    if (unavailable) {
      out.status = "unavailable";
      out.reasons = [{ why: unavailable }];
      return out;
    }
    for (const [i, s] of stmts.entries()) {
      const m = model.result.steps[i];
      if (!m || m.status === "not-run") break;
      let k: KernelStep;
      try {
        k = await ks.exec(s);
      } catch (e) {
        if (!(e instanceof OracleError)) throw e;
        out.status = "fault";
        out.fault = {
          kind: runner.alive ? "runner" : "crash",
          detail: e.message,
          step: m.step,
          line: m.line,
        };
        return out;
      }
      if (k.fault) {
        out.status = "fault";
        out.fault = { ...k.fault, step: m.step, line: m.line };
        return out;
      }
      if (k.notPortable) {
        out.status = "not-portable";
        out.reasons = [{ line: m.line, text: m.text, why: k.notPortable }];
        return out;
      }
      const cmp = compareStep(c, s, m, model.observations.get(m.step), k);
      steps.push(cmp);
      if (cmp.verdict === "diverge") {
        out.status = "diverge";
        out.divergence = cmp;
        return out;
      }
      if (opts.afterKernelStep) await opts.afterKernelStep(m.step, runner);
    }
    return out;
  } finally {
    const exit = await runner.close();
    out.residue = residueOf(exit);
  }
}
