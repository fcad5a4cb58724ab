/**
 * `pinlab explain WHAT`: what the model says about a kernel rule and where
 * in the kernel it lives. WHAT is any of
 *
 * - an errno (`EFAULT`, `-EBUSY`): its meaning, the GUP spec's summary of
 *   who returns it, and every kernel function of the model that does;
 * - a spec rule (`P5`, `[LT-2]`, `VMA-3`): its text and the functions citing it;
 * - a kernel function (`do_wp_page`, `check_vma_flags()`): its file, what it
 *   decides, its errnos, spec rules and trace events;
 * - a trace event (`cow_copy`) or a kernel file (`mm/gup.c`);
 * - a hazard (`lost_write`) or a scenario call (`io_uring_register_buffers`).
 *
 * A query may match several (`cma_alloc` is a call, a function and an
 * event): each match gets a section. Anything else is "not found" with the
 * closest names.
 */
import { HAZARDS, isHazardName } from "../observe/hazard.js";
import { DETECTOR_BY_HAZARD } from "../observe/detectors.js";
import {
  ERRNO_TEXT,
  isErrnoName,
  type KernelRule,
  P_RULE_FUNCTIONS,
  RULE_TABLE,
  ruleName,
  rulesByErrno,
  rulesByEvent,
  rulesByFile,
  rulesByFunction,
  rulesBySpec,
  ruleVocabulary,
  SPEC_ERRNOS,
  SPEC_RULES,
} from "../observe/rules.js";
import { ERRNO } from "../kernel/include/errno.js";
import { CALLS, type CallSpec, closest, isCallName, signature } from "../scenario/index.js";

export interface Explanation {
  found: boolean;
  text: string;
}

/** "[VMA-3]" → "VMA-3", "-EFAULT" → "EFAULT", "do_wp_page()" → "do_wp_page" */
export function normalizeQuery(q: string): string {
  let s = q.trim();
  if (/^\[[A-Za-z]+-\d+[a-z]?\]$/.test(s)) s = s.slice(1, -1);
  if (/^-E[A-Z0-9]+$/i.test(s)) s = s.slice(1);
  if (/^E[A-Z0-9]+$/i.test(s) && isErrnoName(s.toUpperCase())) s = s.toUpperCase();
  if (/^[A-Za-z]+-\d+[a-z]?$/.test(s)) s = s.toUpperCase();
  if (/^p\d+$/.test(s)) s = s.toUpperCase();
  s = s.replace(/\(\)$/, "");
  return s;
}

function specLine(id: string): string {
  const r = SPEC_RULES[id];
  return r ? `[${id}] ${r.text}` : `[${id}]`;
}

/** One function of the index, as a few indented lines. */
function ruleBlock(r: KernelRule, indent = "  "): string[] {
  const out = [`${indent}${ruleName(r)}${r.summary ? ` — ${r.summary}` : ""}`];
  const facts: string[] = [];
  if (r.errnos.length) facts.push(`returns ${r.errnos.map((e) => `-${e}`).join(", ")}`);
  if (r.spec.length) facts.push(`cites ${r.spec.join(", ")}`);
  if (r.events.length) facts.push(`emits ${r.events.join(", ")}`);
  facts.push(`model: ${r.model}`);
  out.push(`${indent}    ${facts.join("; ")}`);
  return out;
}

function errnoSection(e: keyof typeof ERRNO): string[] {
  const out = [`-${e} (errno ${ERRNO[e]}): ${ERRNO_TEXT[e]}`];
  const spec = SPEC_ERRNOS[e];
  if (spec) out.push("", "In GUP (gup-api.md §13):", `  ${spec}`);
  const rs = rulesByErrno(e);
  out.push(
    "",
    rs.length
      ? `Where the model returns -${e} (${rs.length} kernel function${rs.length === 1 ? "" : "s"}):`
      : `The model never returns -${e}.`,
  );
  for (const r of rs) out.push(...ruleBlock(r));
  return out;
}

function specSection(id: string): string[] {
  const r = SPEC_RULES[id];
  const out = [`[${id}] (${r.where})`, `  ${r.text}`];
  const rs = rulesBySpec(id);
  const related = (P_RULE_FUNCTIONS[id] ?? [])
    .flatMap((fn) => rulesByFunction(fn))
    .filter((x) => !rs.includes(x));
  if (rs.length) out.push("", "Cited by the model in:");
  for (const x of rs) out.push(...ruleBlock(x));
  if (related.length) out.push("", "Decided in the model by:");
  for (const x of related) out.push(...ruleBlock(x));
  if (!rs.length && !related.length) out.push("", "No model function cites it by name.");
  return out;
}

function functionSection(fn: string, rs: KernelRule[]): string[] {
  const out: string[] = [];
  for (const r of rs) {
    out.push(`${ruleName(r)}${r.summary ? `\n  ${r.summary}` : ""}`);
    if (r.errnos.length)
      out.push(
        `  returns: ${r.errnos.map((e) => `-${e} (${ERRNO_TEXT[e as keyof typeof ERRNO] ?? "?"})`).join(", ")}`,
      );
    for (const s of r.spec) out.push(`  ${specLine(s)}`);
    if (r.events.length) out.push(`  trace events: ${r.events.join(", ")}`);
    out.push(`  model: ${r.model}`);
  }
  void fn;
  return out;
}

function eventSection(ev: string, rs: KernelRule[]): string[] {
  const out = [`trace event \`${ev}\` — emitted by:`];
  for (const r of rs) out.push(...ruleBlock(r));
  const watchers = Object.entries(DETECTOR_BY_HAZARD).flatMap(([h, f]) => {
    const w = f().watches;
    return w.includes(ev) ? [h] : w.includes("*") ? [`${h} (every event)`] : [];
  });
  if (watchers.length)
    out.push(`  watched by the hazard detector${watchers.length > 1 ? "s" : ""} ${watchers.join(", ")}`);
  return out;
}

function fileSection(file: string, rs: KernelRule[]): string[] {
  const out = [`${file} — ${rs.length} function${rs.length === 1 ? "" : "s"} in the model:`];
  for (const r of rs) out.push(`  ${r.fn}()${r.summary ? ` — ${r.summary}` : ""}`);
  return out;
}

function hazardSection(h: keyof typeof HAZARDS): string[] {
  const d = DETECTOR_BY_HAZARD[h]();
  return [
    `hazard ${h}: ${HAZARDS[h]}`,
    `  detector: src/observe/${h}.ts, watching ${d.watches.includes("*") ? "every kernel event" : d.watches.join(", ")}`,
    `  in a scenario: \`assert hazard ${h}\` / \`assert no hazard ${h}\``,
  ];
}

function callSection(name: string): string[] {
  if (!isCallName(name)) return [];
  const c: CallSpec = CALLS[name];
  const out = [`scenario call ${signature(name, c)} — ${c.doc}`, `  decided by ${c.kernel}`];
  const m = /^([\w./-]+): (\w+)\(\)$/.exec(c.kernel);
  if (m && rulesByFunction(m[2]).length === 0) out.push(`  (not in the model's rule index)`);
  return out;
}

/** Explain one query; `found` is false when nothing matched (the text then says what might have been meant). */
export function explain(query: string): Explanation {
  const q = normalizeQuery(query);
  const sections: string[][] = [];
  if (isErrnoName(q)) sections.push(errnoSection(q));
  if (Object.prototype.hasOwnProperty.call(SPEC_RULES, q)) sections.push(specSection(q));
  if (isHazardName(q)) sections.push(hazardSection(q));
  if (isCallName(q)) sections.push(callSection(q));
  const fns = rulesByFunction(q);
  if (fns.length) sections.push(functionSection(q, fns));
  const evs = rulesByEvent(q);
  if (evs.length) sections.push(eventSection(q, evs));
  const files = rulesByFile(q);
  if (files.length) sections.push(fileSection(q, files));
  if (sections.length) return { found: true, text: sections.map((s) => s.join("\n")).join("\n\n") + "\n" };
  const vocabulary = [
    ...Object.keys(ERRNO),
    ...Object.keys(SPEC_RULES),
    ...Object.keys(HAZARDS),
    ...Object.keys(CALLS),
    ...ruleVocabulary(),
  ];
  const guess = closest(q, vocabulary);
  const hint = guess.length ? `did you mean ${guess.map((g) => `'${g}'`).join(" or ")}?` : "";
  return {
    found: false,
    text:
      `pinlab explain: nothing is called '${query}'${hint ? `; ${hint}` : ""}\n` +
      `  try an errno (EFAULT), a spec rule (P5, LT-2), a kernel function (do_wp_page), a trace event (cow_copy),\n` +
      `  a kernel file (mm/gup.c), a hazard (lost_write) or a scenario call (io_uring_register_buffers);\n` +
      `  the index holds ${RULE_TABLE.length} kernel functions.\n`,
  };
}
