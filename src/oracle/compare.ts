/**
 * Step-by-step comparison of a model run with a live-kernel run
 * (docs/oracle.md "Comparison"). The model states, per step, the set of
 * outcomes it allows; the kernel's answer must fall inside it. The set is
 * the model's own value except where the kernel is nondeterministic in a
 * way user space cannot control — every such widening is listed in
 * WIDENINGS with the kernel source of the nondeterminism.
 */
import type { StepStmt } from "../scenario/ast.js";
import type { CheckedScenario } from "../scenario/checker.js";
import { CALLS, type CallName, isCallName, isObserverName } from "../scenario/calls.js";
import type { StepResult } from "../scenario/runner.js";
import type { KernelStep } from "./kernel_side.js";
import type { ModelObservation } from "./model_side.js";
import { OBSERVER_COMPARISON } from "./observe.js";
import {
  compareValues,
  evalCondition,
  formatSideValue,
  mentionsHazard,
  type Runnable,
  type SideValue,
  toSideValue,
} from "./scenario_walk.js";

export type Verdict = "agree" | "diverge" | "not-compared";

/** One statement compared. */
export interface StepComparison {
  step: number;
  line?: number;
  text: string;
  verdict: Verdict;
  /** the model's side, as printed evidence */
  model: string;
  /** the kernel's side, as printed evidence */
  kernel: string;
  /** why a value was widened or not compared (printed next to the step) */
  notes: string[];
}

/** A widening of the model's allowed outcomes, and the kernel's source of nondeterminism. */
export interface Widening {
  id: string;
  why: string;
}

/**
 * Every place where the model allows more than its own value. Each names
 * the kernel's source of nondeterminism; the oracle prints the widening
 * whenever it was needed for agreement.
 */
export const WIDENINGS = {
  address: {
    id: "address",
    // mm/mmap.c: get_unmapped_area() → mm_get_unmapped_area_vmflags(): top-down from a
    // randomised mmap_base (arch/x86/mm/mmap.c: arch_pick_mmap_layout(), ASLR); the model has
    // no ASLR. Later steps use each side's own address, so only success is compared.
    why: "addresses come from a randomised mmap_base (ASLR: arch_pick_mmap_layout()); only success or the errno is compared",
  },
  pid: {
    id: "pid",
    // kernel/pid.c: alloc_pid(): the live machine's pid space is shared with everything else.
    why: "pids are allocated machine-wide (alloc_pid()); only success or the errno is compared",
  },
  ksmScan: {
    id: "ksm-scan",
    // mm/ksm.c: ksm_scan_thread() runs every sleep_millisecs on its own schedule; a model
    // ksm_scan() is one full pass, the kernel side waits for two full passes (kernel_side.ts):
    // the number of pages merged meanwhile is not a property of the step.
    why: "ksmd merges on its own schedule (ksm_scan_thread()); the scan's count is not compared, only what the asserts after it observe",
  },
  hugetlbPmdShared: {
    id: "hugetlb-pmd-shared",
    // fs/proc/task_mmu.c: pagemap_hugetlb_range() sets PM_MMAP_EXCLUSIVE only when
    // !hugetlb_pmd_shared(ptep), and include/linux/hugetlb.h: hugetlb_pmd_shared() is
    // page_count(virt_to_page(ptep)) > 1 — the refcount of the page-table page holding the
    // entry, which any transient reference raises. Seen on a 1G page mapped by one process
    // only, when the machine was busy (the test suite's other workers running).
    why: "pagemap may report a hugetlb page mapped once as not exclusive: hugetlb_pmd_shared() reads the page-table page's refcount, which transient references raise",
  },
} as const satisfies Record<string, Widening>;

export type WideningId = keyof typeof WIDENINGS;

function modelValue(r: StepResult | undefined): SideValue {
  return r?.result ? toSideValue(r.result) : { kind: "none" };
}

function fmt(v: SideValue, hex: boolean): string {
  return formatSideValue(v, hex);
}

/** Compare a call's value: the allowed set depends on what the call returns. */
function compareCall(s: StepStmt, m: StepResult, k: KernelStep): StepComparison {
  const name = s.call.callee.name;
  const base = { step: m.step, line: m.line, text: m.text, notes: [] as string[] };
  const mv = modelValue(m);
  const kv: SideValue = k.value === undefined ? { kind: "none" } : { kind: "int", n: k.value };
  const hex = isCallName(name) && CALLS[name].result === "address";
  const evidence = { model: fmt(mv, hex), kernel: fmt(kv, hex) };
  if (m.status === "error")
    return { ...base, ...evidence, model: `error: ${m.error?.message ?? "?"}`, verdict: "diverge" };
  if (name === "ksm_scan")
    return {
      ...base,
      ...evidence,
      kernel: "two full ksmd scans",
      verdict: "not-compared",
      notes: [WIDENINGS.ksmScan.why],
    };
  const kind = isCallName(name) ? CALLS[name as CallName].result : "int";
  if (kind === "address" || kind === "process") {
    const w = kind === "address" ? WIDENINGS.address : WIDENINGS.pid;
    // success is any non-negative value (fork: the parent's view, > 0); failure is an errno
    const ok = (v: SideValue) => v.kind === "int" && v.n >= 0;
    const agree = mv.kind === "int" && kv.kind === "int" && (ok(mv) && ok(kv) ? true : mv.n === kv.n);
    return {
      ...base,
      ...evidence,
      verdict: agree ? "agree" : "diverge",
      notes: agree && ok(mv) ? [w.why] : [],
    };
  }
  const agree = compareValues("==", mv, kv) === true;
  return { ...base, ...evidence, verdict: agree ? "agree" : "diverge" };
}

/** Compare an assert: every observation the kernel can make, and the condition's truth. */
function compareAssert(
  c: CheckedScenario,
  s: Extract<Runnable, { kind: "assert" }>,
  m: StepResult,
  model: readonly ModelObservation[],
  k: KernelStep,
): StepComparison {
  const base = { step: m.step, line: m.line, text: m.text };
  if (mentionsHazard(s.cond))
    return {
      ...base,
      verdict: "not-compared",
      model: m.assert?.met ? "holds" : "does not hold",
      kernel: "—",
      notes: ["hazards are the model's judgement of what the kernel did; the kernel reports none"],
    };
  const kobs = new Map((k.observations ?? []).map((o) => [o.node, o]));
  const notes: string[] = [];
  const mParts: string[] = [];
  const kParts: string[] = [];
  let diverge = false;
  let compared = 0;
  /** kernel values inside a widened set, replaced by the model's for the condition */
  const substitute = new Map<number, SideValue>();
  for (const o of model) {
    const ko = kobs.get(o.node);
    const kv: SideValue = ko?.value ?? { kind: "unknown", why: "not observed" };
    const how = isObserverName(o.name) ? OBSERVER_COMPARISON[o.name] : null;
    const hex = how?.how === "identity";
    mParts.push(`${o.text} = ${fmt(o.compared, hex)}`);
    kParts.push(`${o.text} = ${fmt(kv, hex)}`);
    if (how === null || how.how === "model-only") {
      notes.push(`${o.text}: not compared (${how?.why ?? "not an observer"})`);
      continue;
    }
    if (how.how === "identity") {
      notes.push(`${o.text}: ${how.why}`);
      continue;
    }
    if (o.compared.kind === "unknown" || kv.kind === "unknown") {
      notes.push(
        `${o.text}: not compared (${o.compared.kind === "unknown" ? o.compared.why : (kv as { why: string }).why})`,
      );
      continue;
    }
    if (how.how !== "exact") notes.push(`${o.text}: ${how.why}`);
    compared++;
    if (compareValues("==", o.compared, kv) === true) continue;
    if (o.widen === "hugetlbPmdShared" && kv.kind === "bool" && !kv.b) {
      // inside the allowed set: the condition is judged with the model's value
      notes.push(`${o.text}: widened: ${WIDENINGS.hugetlbPmdShared.why}`);
      substitute.set(o.node, o.compared);
      continue;
    }
    diverge = true;
  }
  // The condition, evaluated on both sides with the compared projections: this is where the
  // pattern of pfn equalities (identity) is compared.
  const byNode = new Map(model.map((o) => [o.node, o.compared]));
  const mTruth = evalCondition(c, s.cond, {
    binding: () => undefined,
    process: () => undefined,
    observe: (call) => byNode.get(call.id) ?? { kind: "unknown", why: "not observed" },
  });
  const kTruth = evalCondition(c, s.cond, {
    binding: () => undefined,
    process: () => undefined,
    observe: (call) =>
      substitute.get(call.id) ?? kobs.get(call.id)?.value ?? { kind: "unknown", why: "not observed" },
  });
  if (mTruth !== null && kTruth !== null) {
    compared++;
    if (mTruth !== kTruth) diverge = true;
  }
  const truth = (t: boolean | null) => (t === null ? "cannot be evaluated" : t ? "holds" : "does not hold");
  mParts.unshift(truth(mTruth));
  kParts.unshift(truth(kTruth));
  return {
    ...base,
    verdict: diverge ? "diverge" : compared === 0 ? "not-compared" : "agree",
    model: mParts.join("; "),
    kernel: kParts.join("; "),
    notes,
  };
}

/** Compare one runnable statement's two outcomes. */
export function compareStep(
  c: CheckedScenario,
  s: Runnable,
  m: StepResult | undefined,
  model: readonly ModelObservation[] | undefined,
  k: KernelStep,
): StepComparison {
  if (!m)
    return {
      step: 0,
      text: "",
      verdict: "diverge",
      model: "the model did not run this statement",
      kernel: k.value === undefined ? "ran" : String(k.value),
      notes: [],
    };
  switch (s.kind) {
    case "mount":
    case "process": {
      const ok = m.status === "ok" && k.value !== undefined && k.value >= 0;
      return {
        step: m.step,
        line: m.line,
        text: m.text,
        verdict: ok ? "agree" : "diverge",
        model: m.status === "ok" ? "done" : `error: ${m.error?.message ?? m.status}`,
        kernel: k.value !== undefined && k.value >= 0 ? "done" : `failed (${String(k.value)})`,
        notes: [],
      };
    }
    case "step":
      return compareCall(s, m, k);
    case "assert":
      return compareAssert(c, s, m, model ?? [], k);
  }
}
