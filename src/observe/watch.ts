/**
 * A hazard watch: a set of detectors observing one Machine. It hands each
 * trace event to the detectors that watch its name, tells them when a step
 * ends and when the run ends, and collects their findings with the step
 * (and source line) they arose at. The scenario runner drives one per run;
 * tests and programs can attach one to a Machine they drive themselves.
 *
 * A detector that throws is a bug in the detector, not in the scenario:
 * the watch catches it, records it in `failures` and stops calling that
 * detector, so the model is never interrupted halfway through a kernel
 * function (events are delivered from inside them).
 */
import type { Machine } from "../kernel/machine.js";
import type { TraceEvent } from "../kernel/tracepoint.js";
import type {
  DetectorContext,
  DetectorFactory,
  FindingReport,
  HazardDetector,
  HazardFinding,
  StepInfo,
} from "./hazard.js";

/** What the watch needs to know about the run beyond the machine. */
export interface WatchNames {
  /** process name of a pid (default "pid N") */
  processName?(pid: number): string | undefined;
  /** source line of a step (default: none) */
  lineOf?(step: number): number | undefined;
}

export class HazardWatch {
  readonly findings: HazardFinding[] = [];
  /** "detector lost_write threw TypeError: …" — always empty unless a detector has a bug */
  readonly failures: string[] = [];
  private readonly detectors: HazardDetector[];
  private readonly byEvent = new Map<string, HazardDetector[]>();
  private readonly everyEvent: HazardDetector[] = [];
  private readonly broken = new Set<HazardDetector>();
  private running: HazardDetector | null = null;
  private info: StepInfo = { step: 0, actor: "", call: "" };
  private readonly ctx: DetectorContext;

  constructor(
    readonly machine: Machine,
    factories: readonly DetectorFactory[],
    names: WatchNames = {},
  ) {
    this.detectors = factories.map((f) => f());
    for (const d of this.detectors)
      for (const name of d.watches) {
        if (name === "*") {
          this.everyEvent.push(d);
          continue;
        }
        let list = this.byEvent.get(name);
        if (!list) this.byEvent.set(name, (list = []));
        list.push(d);
      }
    const current = () => this.info;
    this.ctx = {
      machine,
      get step() {
        return current();
      },
      processName: (pid) => names.processName?.(pid) ?? `pid ${pid}`,
      lineOf: (step) => names.lineOf?.(step),
      report: (f) => this.report(f),
    };
  }

  /** The hazards the installed detectors can find. */
  hazards(): string[] {
    return this.detectors.map((d) => d.hazard);
  }

  /** Subscribe to the machine's trace directly (when no runner forwards events). Returns unsubscribe. */
  attach(): () => void {
    return this.machine.k.trace.subscribe((ev) => this.event(ev));
  }

  /** A step begins: findings from now on are attributed to it. */
  beginStep(info: StepInfo): void {
    this.info = info;
  }

  event(ev: TraceEvent): void {
    const list = this.byEvent.get(ev.name);
    if (list) for (const d of list) this.call(d, () => d.onEvent(ev, this.ctx));
    for (const d of this.everyEvent) this.call(d, () => d.onEvent(ev, this.ctx));
  }

  /** The current step has completed. */
  endStep(): void {
    for (const d of this.detectors) if (d.onStepEnd) this.call(d, () => d.onStepEnd!(this.ctx));
  }

  /** The run has ended: end-of-run checks (pins still held, data never written back). */
  end(): void {
    for (const d of this.detectors) if (d.onEnd) this.call(d, () => d.onEnd!(this.ctx));
  }

  private call(d: HazardDetector, fn: () => void): void {
    if (this.broken.has(d)) return;
    this.running = d;
    try {
      fn();
    } catch (e) {
      this.broken.add(d);
      this.failures.push(
        `detector ${d.hazard} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      );
    } finally {
      this.running = null;
    }
  }

  private report(f: FindingReport): void {
    const hazard = f.hazard ?? this.running?.hazard;
    if (!hazard) return;
    // fields in reading order: JSON output follows insertion order
    const finding: HazardFinding = {
      hazard,
      step: this.info.step,
      ...(this.info.line !== undefined ? { line: this.info.line } : {}),
      pfns: [...f.pfns],
      provenance: f.provenance,
      rule: f.rule,
      message: f.message,
    };
    this.findings.push(finding);
  }
}
