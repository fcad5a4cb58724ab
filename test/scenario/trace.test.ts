/**
 * `pinlab run --trace FILE`: Chrome / Perfetto trace-event JSON, validated
 * against the Trace Event Format (JSON Object Format): required fields and
 * their types per phase, metadata naming every process, complete events
 * that nest per thread, instants inside their step.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { pinlab, pinlabWrites } from "./cli_io.js";

const DESIGN = new URL("./fixtures/design/", import.meta.url).pathname;
const FORK = readFileSync(DESIGN + "03_io_uring_fork.pin", "utf8");
const LEAK = `scenario "leak"
process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: memset(buf, 0x11, 4K) = 0
vfio: p = pin_user_pages_remote(A, buf, 1, FOLL_WRITE) = 1
assert hazard pin_leak
`;

type Ev = Record<string, unknown>;

/** Every violation of the trace-event format found in a document; empty when valid. */
function validate(doc: unknown): string[] {
  const bad: string[] = [];
  if (!doc || typeof doc !== "object" || !Array.isArray((doc as { traceEvents?: unknown }).traceEvents))
    return ["not an object with a traceEvents array"];
  const events = (doc as { traceEvents: Ev[] }).traceEvents;
  const named = new Set<number>();
  const int = (v: unknown) => typeof v === "number" && Number.isInteger(v);
  events.forEach((e, i) => {
    const at = `event ${i} (${String(e.name)})`;
    if (typeof e.name !== "string" || e.name === "") bad.push(`${at}: name`);
    if (typeof e.cat !== "string") bad.push(`${at}: cat`);
    if (!["X", "i", "M"].includes(e.ph as string)) bad.push(`${at}: ph ${String(e.ph)}`);
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || e.ts < 0) bad.push(`${at}: ts`);
    if (!int(e.pid) || !int(e.tid)) bad.push(`${at}: pid/tid`);
    if (!e.args || typeof e.args !== "object" || Array.isArray(e.args)) bad.push(`${at}: args`);
    if (e.ph === "X" && (typeof e.dur !== "number" || e.dur < 0)) bad.push(`${at}: dur`);
    if (e.ph !== "X" && "dur" in e) bad.push(`${at}: dur on ${String(e.ph)}`);
    if (e.ph === "i" && !["g", "p", "t"].includes(e.s as string)) bad.push(`${at}: s`);
    if (e.ph === "M") {
      if (!["process_name", "thread_name"].includes(e.name as string)) bad.push(`${at}: metadata name`);
      if (typeof (e.args as { name?: unknown }).name !== "string") bad.push(`${at}: metadata args.name`);
      if (e.name === "process_name") named.add(e.pid as number);
    }
  });
  for (const e of events)
    if (e.ph !== "M" && !named.has(e.pid as number)) bad.push(`pid ${String(e.pid)} has no process_name`);
  // complete events on one thread never overlap (steps run one after another)
  const byThread = new Map<string, Ev[]>();
  for (const e of events.filter((x) => x.ph === "X")) {
    const k = `${String(e.pid)}/${String(e.tid)}`;
    byThread.set(k, [...(byThread.get(k) ?? []), e]);
  }
  for (const [k, xs] of byThread) {
    xs.sort((a, b) => (a.ts as number) - (b.ts as number));
    for (let i = 1; i < xs.length; i++)
      if ((xs[i].ts as number) < (xs[i - 1].ts as number) + (xs[i - 1].dur as number))
        bad.push(`overlap on ${k}`);
  }
  return [...new Set(bad)];
}

describe("pinlab run --trace", () => {
  it("writes valid trace-event JSON: processes, steps as complete events, kernel events as instants", () => {
    const r = pinlabWrites(["run", "--trace", "out.json", "f.pin"], { "f.pin": FORK });
    expect(r.status).toBe(0);
    const text = r.written["out.json"];
    const doc = JSON.parse(text) as { traceEvents: Ev[]; displayTimeUnit: string };
    expect(validate(doc)).toEqual([]);
    const ev = doc.traceEvents;
    const meta = ev.filter((e) => e.name === "process_name").map((e) => (e.args as { name: string }).name);
    expect(meta).toEqual(["kernel — a page pinned by io_uring stays the parent's across fork", "A", "B"]);
    const steps = ev.filter((e) => e.ph === "X");
    expect(steps).toHaveLength(12);
    expect(steps[1]).toMatchObject({
      name: "A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
      cat: "step,call",
      pid: 1,
      tid: 1,
      args: { file: "f.pin", step: 2, line: 3, status: "ok", result: "0x7efffffff000" },
    });
    const kernel = ev.filter((e) => e.cat === "kernel");
    expect(kernel.length).toBeGreaterThan(5);
    const fork = kernel.find((e) => e.name === "fork_copy_pinned")!;
    expect((fork.args as { where: string }).where).toBe("mm/memory.c: copy_present_page()");
    // each instant lies inside its step
    for (const k of kernel) {
      const s = steps.find(
        (x) =>
          x.pid === k.pid &&
          x.tid === k.tid &&
          (x.ts as number) < (k.ts as number) &&
          (k.ts as number) < (x.ts as number) + (x.dur as number),
      );
      expect(s, String(k.name)).toBeDefined();
    }
    // the device's step is on the kernel process, on a thread of its own
    const dev = steps.find((e) => (e.name as string).startsWith("dev:"))!;
    expect(dev.pid).toBe(999);
    const threads = ev
      .filter((e) => e.name === "thread_name" && e.pid === 999)
      .map((e) => (e.args as { name: string }).name);
    expect(threads).toEqual(["scenario", "dev"]);
  });
  it("marks hazards as global instants, and is byte-identical for the same file and seed", () => {
    const a = pinlabWrites(["run", "--trace", "t.json", "l.pin"], { "l.pin": LEAK });
    const b = pinlabWrites(["run", "--trace", "t.json", "--json", "l.pin"], { "l.pin": LEAK });
    expect(a.written["t.json"]).toBe(b.written["t.json"]);
    const doc = JSON.parse(a.written["t.json"]) as { traceEvents: Ev[] };
    expect(validate(doc)).toEqual([]);
    const h = doc.traceEvents.filter((e) => e.cat === "hazard");
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ name: "pin_leak", ph: "i", s: "g", args: { step: 4, line: 5, pins: [1] } });
  });
  it("several files share one trace, each in its own pid range", () => {
    const r = pinlabWrites(["run", "--trace", "t.json", "a.pin", "b.pin"], { "a.pin": LEAK, "b.pin": FORK });
    const doc = JSON.parse(r.written["t.json"]) as { traceEvents: Ev[] };
    expect(validate(doc)).toEqual([]);
    const pids = new Set(doc.traceEvents.map((e) => e.pid as number));
    expect([...pids].sort((x, y) => x - y)).toEqual([1, 999, 1001, 1002, 1999]);
  });
  it("a trace file that cannot be written is an error, exit 2; --trace needs a name", () => {
    const r = pinlab(["run", "--trace", "/nonexistent/t.json", "l.pin"], { "l.pin": LEAK });
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/^pinlab: cannot write \/nonexistent\/t\.json: ENOENT/);
    expect(pinlab(["run", "l.pin", "--trace"], { "l.pin": LEAK }).err.split("\n")[0]).toBe(
      "pinlab: --trace needs a value",
    );
  });
});
