/**
 * Human output of `pinlab run`: each step with its result, ✓/✗ for its
 * expectation or assert, the kernel events it caused with the kernel rule
 * behind each, then hazards and a verdict. Deterministic: no clock, no
 * colours, no terminal width.
 */
import type { TraceEvent } from "../kernel/tracepoint.js";
import { describePin } from "../observe/provenance.js";
import {
  formatDiagnostic,
  formatStatus,
  type Diagnostic,
  type ScenarioResult,
  type StepResult,
} from "../scenario/index.js";

export interface ReportOptions {
  /** events shown per step: a number, or Infinity for all (default 6) */
  events: number;
}

const hex = (n: number) => (n < 0 ? String(n) : "0x" + n.toString(16));

export function formatEvent(e: TraceEvent): string {
  const args = Object.entries(e.args)
    .map(([k, v]) => `${k}=${typeof v === "number" && v > 9 ? hex(v) : String(v)}`)
    .join(" ");
  return `${e.name}${args ? " " + args : ""}  [${e.where}]`;
}

function mark(st: StepResult): string {
  switch (st.status) {
    case "ok":
      return st.expect || st.assert ? " ✓" : "";
    case "failed":
      return " ✗";
    case "error":
      return " ✗";
    case "not-run":
      return "";
  }
}

function stepLine(st: StepResult): string {
  const num = String(st.step).padStart(4);
  const head = `${num}  ${st.text}`;
  if (st.status === "not-run") return `${head}  — not run`;
  if (st.kind === "assert") {
    const a = st.assert;
    return a ? `${head}${mark(st)}  (${a.detail})` : head;
  }
  if (st.status === "error") return `${head}${mark(st)}`;
  let s = head;
  if (st.result) s += `  → ${st.result.kind === "int" ? st.result.text : JSON.stringify(st.result)}`;
  if (st.result?.kind === "int" && st.result.handle) {
    const h = st.result.handle;
    if (h.status) s += ` (status: ${h.status.map(formatStatus).join(", ")})`;
    else s += ` (${h.kind}: ${h.pinned ? `${h.pinned} pinned` : `${h.referenced} referenced`})`;
  }
  s += mark(st);
  if (st.expect && !st.expect.met) s += ` expected ${st.expect.expected}`;
  return s;
}

export function formatResult(
  file: string,
  source: string | undefined,
  r: ScenarioResult,
  o: ReportOptions,
): string {
  const out: string[] = [];
  out.push(`${r.title ? `scenario "${r.title}"` : "scenario"}  (${file}, seed ${r.seed})`);
  if (r.machine) {
    const c = r.machine;
    const size = (n: number) => fmtBytes(n);
    out.push(
      `machine memory=${size(c.memory)} movable=${size(c.movable)} cma=${size(c.cma)} thp=${c.thp}` +
        (c.hugetlb2M ? ` hugetlb.2M=${c.hugetlb2M}` : "") +
        (c.hugetlb1G ? ` hugetlb.1G=${c.hugetlb1G}` : "") +
        (c.nodes ? ` nodes=${c.nodes}` : ""),
    );
  }
  out.push("");
  for (const st of r.steps) {
    out.push(stepLine(st));
    if (st.error) out.push(indent(formatDiagnostic(st.error, file, source), 8));
    const shown = Math.min(st.events.length, o.events);
    for (let i = 0; i < shown; i++) out.push(`        · ${formatEvent(st.events[i])}`);
    const more = st.events.length - shown + st.eventsDropped;
    if (more > 0 && o.events > 0)
      out.push(`        · … ${more} more event${more > 1 ? "s" : ""} (--events all shows them)`);
  }
  out.push("");
  out.push(...formatHazards(r));
  for (const d of r.diagnostics)
    if (!r.steps.some((s) => s.error === d)) out.push(formatDiagnostic(d, file, source));
  const s = r.summary;
  const parts = [`${s.steps} step${s.steps === 1 ? "" : "s"}`];
  if (s.expectations)
    parts.push(`${s.expectations - s.expectationsFailed}/${s.expectations} expectations met`);
  if (s.asserts) parts.push(`${s.asserts - s.assertsFailed}/${s.asserts} asserts held`);
  if (s.errors) parts.push(`${s.errors} error${s.errors > 1 ? "s" : ""}`);
  if (s.notRun) parts.push(`${s.notRun} not run`);
  if (s.hazards)
    parts.push(
      `${s.hazards} hazard${s.hazards === 1 ? "" : "s"}` +
        (s.hazardsUnexpected ? ` (${s.hazardsUnexpected} not asserted)` : ""),
    );
  out.push(`${r.passed ? "PASS" : "FAIL"}: ${parts.join(", ")}`);
  return out.join("\n") + "\n";
}

/**
 * The hazards section: each finding with where it arose, its story, the
 * kernel rule that decided it and the pins behind it.
 *
 *     hazards: 1
 *       lost_write at line 30 (step 11)
 *         the device's write of 0x22 into pfn 0x400 … never reaches the file: …
 *         rule: mm/page-writeback.c: folio_clear_dirty_for_io(): …
 *         pin 2: referenced by kvm (get_user_pages_unlocked FOLL_WRITE) of process guest at line 25
 */
export function formatHazards(r: ScenarioResult): string[] {
  if (r.hazards.length === 0) return ["hazards: none"];
  const asserted = new Set<string>(r.assertedHazards);
  const n = r.hazards.length;
  const out = [`hazards: ${n}`];
  for (const h of r.hazards) {
    const where = h.line !== undefined ? `at line ${h.line} (step ${h.step})` : `at step ${h.step}`;
    out.push(`  ${h.hazard} ${where}${asserted.has(h.hazard) ? "" : "  — not asserted by the scenario"}`);
    out.push(`    ${h.message}`);
    out.push(`    rule: ${h.rule}`);
    for (const p of h.provenance) out.push(`    pin ${p.pin}: ${describePin(p)}`);
  }
  return out;
}

export function formatDiagnostics(
  file: string,
  source: string | undefined,
  ds: readonly Diagnostic[],
): string {
  return ds.map((d) => formatDiagnostic(d, file, source) + "\n").join("");
}

function indent(s: string, n: number): string {
  const pad = " ".repeat(n);
  return s
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
}

export function fmtBytes(n: number): string {
  for (const [s, m] of [
    ["T", 1024 ** 4],
    ["G", 1024 ** 3],
    ["M", 1024 ** 2],
    ["K", 1024],
  ] as const)
    if (n !== 0 && n % m === 0) return `${n / m}${s}`;
  return String(n);
}
