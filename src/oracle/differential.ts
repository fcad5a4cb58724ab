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
import { type ModelRun, runModel } from "./model_side.js";
import { NativeRunner, type NativeRunnerOptions, OracleError, type RunnerExit } from "./native.js";
import { type NotPortableReason, portability } from "./portable.js";
import { type Runnable, runnables } from "./scenario_walk.js";
import { NONDET } from "../kernel/nondet.js";

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
    // The kernel side runs first, to the end (or to a fault): a model run is judged against
    // the whole of it, and other model runs can be, when the kernel took an unusual outcome.
    const kernel: KernelStep[] = [];
    let stop: { fault?: OracleFault; notPortable?: NotPortableReason } | null = null;
    for (const [i, s] of stmts.entries()) {
      const m = model.result.steps[i];
      if (!m || m.status === "not-run") break;
      let k: KernelStep;
      try {
        k = await ks.exec(s);
      } catch (e) {
        if (!(e instanceof OracleError)) throw e;
        stop = {
          fault: { kind: runner.alive ? "runner" : "crash", detail: e.message, step: m.step, line: m.line },
        };
        break;
      }
      if (k.fault) {
        stop = { fault: { ...k.fault, step: m.step, line: m.line } };
        break;
      }
      if (k.notPortable) {
        stop = { notPortable: { line: m.line, text: m.text, why: k.notPortable } };
        break;
      }
      kernel.push(k);
      if (opts.afterKernelStep) await opts.afterKernelStep(m.step, runner);
    }
    const judged = judgeRuns(c, model, kernel, opts);
    out.notes = [...out.notes, ...judged.notes];
    steps.push(...judged.steps);
    if (judged.divergence) {
      out.status = "diverge";
      out.divergence = judged.divergence;
    } else if (stop?.fault) {
      out.status = "fault";
      out.fault = stop.fault;
    } else if (stop?.notPortable) {
      out.status = "not-portable";
      out.reasons = [stop.notPortable];
    }
    return out;
  } finally {
    const exit = await runner.close();
    out.residue = residueOf(exit);
  }
}

interface Judged {
  steps: StepComparison[];
  divergence?: StepComparison;
}

/**
 * Judge the kernel's steps against the model: its usual run, and when that
 * diverges, its runs with other outcomes at the nondeterministic choices it
 * met. The notes say which unusual outcomes the kernel took.
 */
export function judgeRuns(
  c: CheckedScenario,
  model: ModelRun,
  kernel: readonly KernelStep[],
  opts: RunOptions = {},
): Judged & { notes: string[] } {
  const stmts = runnables(c);
  const usual = judge(c, stmts, model, kernel);
  if (!usual.divergence) return { ...usual, notes: [] };
  return otherOutcomes(c, stmts, model, kernel, opts) ?? { ...usual, notes: [] };
}

/** Compare a model run with the kernel's steps, up to the first divergence. */
function judge(
  c: CheckedScenario,
  stmts: readonly Runnable[],
  model: ModelRun,
  kernel: readonly KernelStep[],
): Judged {
  const steps: StepComparison[] = [];
  for (const [i, k] of kernel.entries()) {
    const m = model.result.steps[i];
    const cmp = compareStep(c, stmts[i], m, m ? model.observations.get(m.step) : undefined, k);
    steps.push(cmp);
    if (cmp.verdict === "diverge") return { steps, divergence: cmp };
  }
  return { steps };
}

/** At most this many of a run's nondeterministic choices are tried in other outcomes (2^n runs). */
const MAX_CHOICES = 4;

/**
 * The live kernel diverged from the usual outcome of every choice: try the
 * model with other outcomes at the choices it met (src/kernel/nondet.ts),
 * fewest changes first. The first run that agrees with the kernel
 * throughout is the one reported, with a note on what the kernel did.
 */
function otherOutcomes(
  c: CheckedScenario,
  stmts: readonly Runnable[],
  model: ModelRun,
  kernel: readonly KernelStep[],
  opts: RunOptions,
): (Judged & { notes: string[] }) | null {
  const points = model.nondetSeen.slice(0, MAX_CHOICES);
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << points.length; mask++)
    subsets.push(points.filter((_, i) => mask & (1 << i)));
  subsets.sort((a, b) => a.length - b.length);
  for (const unusual of subsets) {
    const variant = runModel(c, { ...opts, unusual: new Set(unusual) });
    const judged = judge(c, stmts, variant, kernel);
    if (judged.divergence) continue;
    const notes = unusual.map((key) => {
      const name = key.slice(0, key.indexOf("#"));
      const p = Object.values(NONDET).find((x) => x.name === name);
      return `the live kernel took the unusual outcome at ${key}: ${p?.why ?? name}`;
    });
    return { ...judged, notes };
  }
  return null;
}
