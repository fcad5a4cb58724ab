/**
 * `pinlab run --trace out.json`: the runs as Chrome / Perfetto trace-event
 * JSON ("Trace Event Format", the JSON Object Format: {"traceEvents": […]}),
 * so a scenario opens in chrome://tracing, ui.perfetto.dev or Speedscope.
 *
 * - Each process of a scenario is a trace process (its pid, named by a
 *   `process_name` metadata event); the kernel and its drivers share one
 *   more, "kernel", with a thread per actor ("scenario" for mounts,
 *   declarations and asserts).
 * - Each step is a complete event ("X") on its actor's track, with its
 *   statement, result, expectation and status in args.
 * - Each kernel trace event is an instant event ("i") inside its step, with
 *   its arguments and the kernel rule (`where`) in args.
 * - Each hazard is a global instant event at the end of the step it arose at.
 *
 * The model has no clock: time is the event count. A step starts one tick
 * after the last one ended and lasts one tick per kernel event plus two, so
 * same scenario and seed give the same bytes.
 */
import type { ScenarioResult, StepResult } from "../scenario/index.js";

/** One trace event; the fields the format requires, plus optional ones. */
export interface TraceEventJson {
  name: string;
  cat: string;
  ph: "X" | "i" | "M";
  /** microseconds (here: ticks of the model's event clock) */
  ts: number;
  /** "X" only */
  dur?: number;
  pid: number;
  tid: number;
  /** "i" only: scope, g(lobal) / p(rocess) / t(hread) */
  s?: "g" | "p" | "t";
  args: Record<string, unknown>;
}

export interface TraceJson {
  traceEvents: TraceEventJson[];
  displayTimeUnit: "ns" | "ms";
  otherData: Record<string, string>;
}

/** Pids of one scenario are offset by this much per file, so several runs share one trace. */
export const PID_STRIDE = 1000;
/** The trace process of the kernel and its drivers (the last pid of a file's range; pid 0 means "idle" to some viewers). */
const KERNEL_PID = PID_STRIDE - 1;

export function traceJson(runs: readonly { file: string; result: ScenarioResult }[]): TraceJson {
  const ev: TraceEventJson[] = [];
  let t = 0;
  runs.forEach(({ file, result: r }, fileIndex) => {
    const base = fileIndex * PID_STRIDE;
    const title = r.title ?? file;
    const meta = (name: string, pid: number, tid: number, value: string) =>
      ev.push({ name, cat: "__metadata", ph: "M", ts: 0, pid, tid, args: { name: value } });
    meta("process_name", base + KERNEL_PID, 0, `kernel — ${title}`);
    meta("thread_name", base + KERNEL_PID, 0, "scenario");
    const pids = new Map<string, number>();
    for (const p of r.processes) {
      pids.set(p.name, base + p.pid);
      meta("process_name", base + p.pid, base + p.pid, runs.length > 1 ? `${p.name} (${file})` : p.name);
      meta("thread_name", base + p.pid, base + p.pid, p.name);
    }
    const actors = new Map<string, number>();
    const track = (st: StepResult): { pid: number; tid: number } => {
      const who = st.kind === "process" ? st.text.replace(/^process\s+/, "") : st.actor;
      if (who !== undefined) {
        const pid = pids.get(who);
        if (pid !== undefined) return { pid, tid: pid };
        let tid = actors.get(who);
        if (tid === undefined) {
          tid = actors.size + 1;
          actors.set(who, tid);
          meta("thread_name", base + KERNEL_PID, base + tid, who);
        }
        return { pid: base + KERNEL_PID, tid: base + tid };
      }
      return { pid: base + KERNEL_PID, tid: base };
    };
    const stepEnd = new Map<number, number>();
    for (const st of r.steps) {
      const where = track(st);
      const start = t;
      const dur = st.events.length + 2;
      const args: Record<string, unknown> = { file, step: st.step, status: st.status };
      if (st.line !== undefined) args.line = st.line;
      if (st.result) args.result = st.result.kind === "int" ? st.result.text : st.result;
      if (st.expect) args.expect = st.expect;
      if (st.assert) args.assert = st.assert;
      if (st.error) args.error = `${st.error.code}: ${st.error.message}`;
      if (st.eventsDropped) args.eventsDropped = st.eventsDropped;
      ev.push({ name: st.text, cat: `step,${st.kind}`, ph: "X", ts: start, dur, ...where, args });
      st.events.forEach((e, i) => {
        ev.push({
          name: e.name,
          cat: "kernel",
          ph: "i",
          s: "t",
          ts: start + 1 + i,
          ...where,
          args: { ...e.args, where: e.where, seq: e.seq },
        });
      });
      t = start + dur + 1;
      stepEnd.set(st.step, start + dur);
    }
    for (const h of r.hazards)
      ev.push({
        name: h.hazard,
        cat: "hazard",
        ph: "i",
        s: "g",
        ts: stepEnd.get(h.step) ?? t,
        pid: base + KERNEL_PID,
        tid: base,
        args: {
          message: h.message,
          rule: h.rule,
          step: h.step,
          ...(h.line !== undefined ? { line: h.line } : {}),
          pfns: h.pfns,
          pins: h.provenance.map((p) => p.pin),
        },
      });
    t += 10;
  });
  return {
    traceEvents: ev,
    displayTimeUnit: "ns",
    otherData: { generator: "pinlab", clock: "model events (1 tick per kernel event)" },
  };
}
