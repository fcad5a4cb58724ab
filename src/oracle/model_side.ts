/**
 * The model's side of a differential run: the scenario runs on the model as
 * `pinlab run` runs it, and at every assert the oracle also records what
 * each observer of the assert reads on the model — the value itself and the
 * projection the kernel can be compared with (./observe.ts).
 *
 * The observations are taken by a probe installed like a hazard detector
 * (it is called at the end of every step with the machine, and never
 * reports anything). The probe needs the binding values of the steps before
 * the assert; the model is deterministic (same scenario and seed, byte for
 * byte the same run), so a first run provides them and the second run, with
 * the probe, is the one reported. The two runs are checked to agree.
 */
import { PinlabError } from "../kernel/errors.js";
import { EFAULT } from "../kernel/include/errno.js";
import type { Machine } from "../kernel/machine.js";
import { folio_test_hugetlb } from "../kernel/mm/folio.js";
import { page_mapcount } from "../kernel/mm/rmap.js";
import { DETECTORS } from "../observe/detectors.js";
import type { DetectorFactory, HazardDetector } from "../observe/hazard.js";
import type { Call } from "../scenario/ast.js";
import type { CheckedScenario } from "../scenario/checker.js";
import { isObserverName, OBSERVERS } from "../scenario/calls.js";
import { OBSERVER_IMPLS } from "../scenario/entry_points.js";
import { printExpr } from "../scenario/print.js";
import { run, type RunOptions, type ScenarioResult, type StepResult } from "../scenario/runner.js";
import type { Value } from "../scenario/value.js";
import type { WideningId } from "./compare.js";
import { OBSERVER_COMPARISON } from "./observe.js";
import {
  evalExpr,
  observerCalls,
  runnables,
  type Scope,
  type SideValue,
  toSideValue,
} from "./scenario_walk.js";

/** What one observer call of an assert read on the model. */
export interface ModelObservation {
  /** the observer call's node */
  node: number;
  /** the observer's name */
  name: string;
  text: string;
  /** the model's observer, as the assert saw it */
  value: SideValue;
  /** what is compared with the kernel (differs from value for exclusive, mapcount, movable) */
  compared: SideValue;
  /** a widening the kernel's value may need (compare.ts WIDENINGS) */
  widen?: WideningId;
}

export interface ModelRun {
  result: ScenarioResult;
  /** the kernel's nondeterministic choices the run met ("name#n", src/kernel/nondet.ts) */
  nondetSeen: string[];
  /** step number → the observations of that assert */
  observations: Map<number, ModelObservation[]>;
}

/**
 * What the steps before `step` left bound, from a run's results: each binding's number, and
 * the status array of those bound to a move_pages() call.
 */
function bindingsBefore(
  c: CheckedScenario,
  steps: readonly StepResult[],
  step: number,
): { numbers: Map<string, number>; statuses: Map<string, number[]> } {
  const numbers = new Map<string, number>();
  const statuses = new Map<string, number[]>();
  const stmts = runnables(c);
  for (let i = 0; i < step - 1 && i < steps.length; i++) {
    const s = stmts[i];
    const r = steps[i]?.result;
    if (s?.kind !== "step" || !s.binding || r?.kind !== "int") continue;
    numbers.set(s.binding.name, r.n);
    if (r.handle?.status) statuses.set(s.binding.name, r.handle.status);
  }
  return { numbers, statuses };
}

function pidOf(m: Machine, name: string): number | undefined {
  for (const t of m.k.tasks.values()) if (t.name === name) return t.pid;
  return undefined;
}

/** Evaluate one observer call on the model, with its projection for the comparison. */
export function observeModel(
  c: CheckedScenario,
  m: Machine,
  call: Call,
  scope: Scope,
  statusOf?: (binding: string) => number[] | undefined,
): ModelObservation {
  const name = call.callee.name;
  const text = printExpr(call);
  if (!isObserverName(name))
    return {
      node: call.id,
      name,
      text,
      value: unknown("not an observer"),
      compared: unknown("not an observer"),
    };
  const spec = OBSERVERS[name];
  const args: unknown[] = [];
  for (let i = 0; i < call.args.length; i++) {
    const a = call.args[i];
    const kind = spec.args[i]?.kind;
    if (kind === "process") {
      const pid = a.kind === "name" ? scope.process(a.name) : undefined;
      if (pid === undefined)
        return { node: call.id, name, text, value: unknown("no such process"), compared: unknown("") };
      args.push(pid);
    } else if (kind === "handle") {
      // a move_pages() status array is what the kernel wrote; other handles (pinned(),
      // referenced()) are model-only observations, not evaluated here
      const st = name === "move_status" && a.kind === "name" ? statusOf?.(a.name) : undefined;
      if (!st)
        return { node: call.id, name, text, value: unknown("a handle"), compared: unknown("model-only") };
      const idx = evalExpr(c, call.args[i + 1], scope);
      const v: SideValue =
        idx.kind === "int" && idx.n >= 0 && idx.n < st.length
          ? { kind: "int", n: st[idx.n] }
          : unknown("index");
      return { node: call.id, name, text, value: v, compared: v };
    } else {
      const v = evalExpr(c, a, scope);
      if (v.kind !== "int") return { node: call.id, name, text, value: v, compared: v };
      args.push(v.n);
    }
  }
  let value: SideValue;
  try {
    value = toSideValue((OBSERVER_IMPLS[name] as (m: Machine, ...a: unknown[]) => Value)(m, ...args));
  } catch (e) {
    value = unknown(e instanceof Error ? e.message : String(e));
  }
  let compared = value;
  const how = OBSERVER_COMPARISON[name].how;
  if (how === "exclusive" || how === "mapcount" || how === "movable") {
    const pid = args[0] as number;
    const addr = args[1] as number;
    const pfn = m.translate(pid, addr);
    if (how === "movable")
      compared = { kind: "bool", b: pfn >= 0 && m.page(pfn).zone.toUpperCase() === "MOVABLE" };
    else if (pfn < 0)
      compared = how === "exclusive" ? { kind: "bool", b: false } : { kind: "int", n: -EFAULT };
    else {
      // the page's precise mapcount, as /proc/kpagecount and pagemap bit 56 see it
      // (CONFIG_PAGE_MAPCOUNT: folio_precise_page_mapcount())
      const precise = page_mapcount(m.k, pfn);
      compared = how === "exclusive" ? { kind: "bool", b: precise === 1 } : { kind: "int", n: precise };
      if (how === "exclusive" && precise === 1 && folio_test_hugetlb(m.k, m.k.memmap.head(pfn)))
        return { node: call.id, name, text, value, compared, widen: "hugetlbPmdShared" };
    }
  }
  return { node: call.id, name, text, value, compared };
}

function unknown(why: string): SideValue {
  return { kind: "unknown", why };
}

/** The observer probe: records every assert's observer values at the end of that step. */
function probe(
  c: CheckedScenario,
  first: ScenarioResult,
  sink: Map<number, ModelObservation[]>,
  nondet: { seen: string[] },
): DetectorFactory {
  const stmts = runnables(c);
  return (): HazardDetector => ({
    // A probe, not a hazard detector: it watches no event and never reports. The interface
    // requires a hazard name; "warn" has a detector already, so the list of hazards is unchanged.
    hazard: "warn",
    watches: [],
    onEvent: () => {},
    onStepEnd: (ctx) => {
      const n = ctx.step.step;
      const s = stmts[n - 1];
      const m = ctx.machine;
      nondet.seen = [...m.k.nondet.seen];
      if (s?.kind !== "assert") return;
      const bound = bindingsBefore(c, first.steps, n);
      const scope: Scope = {
        binding: (name) => bound.numbers.get(name),
        process: (name) => pidOf(m, name),
      };
      sink.set(
        n,
        observerCalls(s.cond).map((call) => observeModel(c, m, call, scope, (b) => bound.statuses.get(b))),
      );
    },
  });
}

/** The comparable part of a step result (what two deterministic runs must share). */
function fingerprint(r: ScenarioResult): string {
  return JSON.stringify(
    r.steps.map((s) => [
      s.status,
      s.result ?? null,
      s.expect ?? null,
      s.assert ?? null,
      s.error?.message ?? null,
    ]),
  );
}

/** Run the scenario on the model, recording every assert's observations. */
export function runModel(c: CheckedScenario, opts: RunOptions = {}): ModelRun {
  const first = run(c, opts);
  const observations = new Map<number, ModelObservation[]>();
  const nondet = { seen: [] as string[] };
  const detectors = [...(opts.detectors ?? DETECTORS), probe(c, first, observations, nondet)];
  const result = run(c, { ...opts, detectors });
  if (fingerprint(first) !== fingerprint(result))
    throw new PinlabError(
      "oracle: two runs of the same scenario on the model differ; the model must be deterministic for a seed",
    );
  return { result, observations, nondetSeen: nondet.seen };
}
