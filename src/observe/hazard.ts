/**
 * Hazards: the named ways pinning goes wrong (DESIGN.md "Hazards"), and the
 * shape every hazard detector shares. A detector watches the model's trace
 * events (the model never knows it is watched), keeps whatever state it
 * needs, and reports findings naming the step, the pages and the pin
 * provenance. One detector per hazard, one module each, registered in
 * detectors.ts; this module holds only the vocabulary and the interface.
 *
 * "Provenance" below means the record of one pin call — who (process or
 * driver), which API and FOLL_* flags, which range, at which step — the
 * pin table's PinRecord (src/kernel/drivers/pin_table.ts) seen from outside.
 */
import type { Machine } from "../kernel/machine.js";
import type { TraceEvent } from "../kernel/tracepoint.js";

/** Every hazard name the language and the output accept, with one line of meaning. */
export const HAZARDS = {
  /** a live pin no longer refers to the page the pinning process maps at that address */
  cpu_dev_divergence:
    "a live pin no longer refers to the page the process maps there (COW, unshare, truncate or migration broke coherence)",
  /** a device write through a pin never reaches the file */
  lost_write:
    "a device write through a pin never reaches the file (the page was cleaned, truncated or replaced)",
  /** a page under writeback is written through a pin */
  unstable_writeback: "a page under writeback is written through a pin",
  /** a kernel BUG condition was reached: the machine halted */
  oops: "a kernel BUG condition was reached and the machine halted",
  /** a kernel WARN condition was reached */
  warn: "a kernel WARN condition was reached",
  /** a long-term pin holds a page in ZONE_MOVABLE or CMA (or a short-term one kept it from moving) */
  unmovable_pin:
    "a long-term pin holds a page in ZONE_MOVABLE or CMA, or a short-term pin held across steps kept such a page from moving",
  /** cma_alloc, offlining or compaction failed because of a pin */
  alloc_failure: "cma_alloc, memory offlining or compaction failed because of a pin",
  /** pins outstanding when their owner exited or the scenario ended */
  pin_leak: "pins outstanding when their owner exited or the scenario ended",
  /** pinned_vm / locked_vm / user locked_vm disagree with the pins held */
  accounting_drift: "pinned_vm, locked_vm or the user's locked_vm disagree with the pins held",
} as const;

export type HazardName = keyof typeof HAZARDS;
export const HAZARD_NAMES = Object.keys(HAZARDS) as HazardName[];

export function isHazardName(s: string): s is HazardName {
  return Object.prototype.hasOwnProperty.call(HAZARDS, s);
}

/** Who took a pin, as a finding reports it. */
export interface PinProvenance {
  /** pin table record id */
  pin: number;
  /** "pin" (FOLL_PIN, released with unpin_user_pages*) or "ref" (FOLL_GET, released with put_page) */
  kind: "pin" | "ref";
  /** taken with FOLL_LONGTERM (or by an API that always pins long-term) */
  longterm: boolean;
  /** the process or driver that holds it: "io_uring", "vfio", "A", … */
  owner: string;
  /** GUP entry point: "pin_user_pages_remote", … */
  api: string;
  /** FOLL_* flags as the caller passed them, e.g. "FOLL_WRITE|FOLL_LONGTERM" */
  flags: string;
  /** the process whose memory is pinned */
  process: string;
  /** first user address and page count of the pinned range */
  start: number;
  nrPages: number;
  /** the scenario step that took the pin (and its source line, when known) */
  step: number;
  line?: number;
}

/** One hazard found. */
export interface HazardFinding {
  hazard: HazardName;
  /** the step at which the hazard arose */
  step: number;
  /** that step's source line, when the scenario came from text */
  line?: number;
  /** the affected pfns */
  pfns: number[];
  /** the pins responsible, when the hazard involves pins */
  provenance: PinProvenance[];
  /** the kernel rule behind it: "mm/memory.c: wp_page_copy()" */
  rule: string;
  /** one sentence, causal: "blocked by pfn 0x… long-term pinned by io_uring of A at line 12" */
  message: string;
}

/** What the runner tells detectors about the step being executed. */
export interface StepInfo {
  /** 1-based step number */
  step: number;
  /** source line, when the scenario came from text */
  line?: number;
  /** "A", "kernel", "vfio", "dev", or "" for asserts and declarations */
  actor: string;
  /** the call's name, or the statement kind */
  call: string;
}

/** Passed to detectors: the machine being observed, the current step, and the report sink. */
export interface DetectorContext {
  readonly machine: Machine;
  readonly step: StepInfo;
  /** process name of a pid, for provenance text */
  processName(pid: number): string;
  /** the source line of a step, when the scenario came from text (pin provenance says "at line 12") */
  lineOf(step: number): number | undefined;
  /** report a finding at the current step */
  report(finding: Omit<HazardFinding, "step" | "line" | "hazard"> & { hazard?: HazardName }): void;
}

/** A finding as a detector hands it to ctx.report(). */
export type FindingReport = Parameters<DetectorContext["report"]>[0];

/**
 * A hazard detector. Every detector has the same shape: the hazard it finds,
 * the events it watches, state of its own, findings through ctx.report().
 * Detectors must not change the machine, and must not throw: a detector
 * that cannot make sense of an event ignores it.
 */
export interface HazardDetector {
  readonly hazard: HazardName;
  /** the trace event names onEvent() is called for ("*" for every event) */
  readonly watches: readonly string[];
  /** called for every watched trace event, in order */
  onEvent(ev: TraceEvent, ctx: DetectorContext): void;
  /** called after each step completes */
  onStepEnd?(ctx: DetectorContext): void;
  /** called once after the last step (pin leaks, accounting at exit) */
  onEnd?(ctx: DetectorContext): void;
}

/** Builds a fresh detector for one run (detectors keep per-run state). */
export type DetectorFactory = () => HazardDetector;
