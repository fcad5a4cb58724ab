/**
 * Building the index of kernel rules (rule_table.ts) from the model's own
 * source: every kernel function the model implements — its kernel file,
 * the first sentence of its TSDoc, the errnos it returns, the spec rules it
 * cites and the trace events it emits — plus every `where` a trace event
 * names ("mm/rmap.c: page_vma_mkclean_one()"). Kernel names for kernel
 * things (STYLE.md) make this possible: a model function is named after the
 * kernel function it models, and its module header names the kernel file.
 *
 * Pure text in, data out: test/observe/rules.test.ts reads src/kernel,
 * checks that rule_table.ts is what this yields, and rewrites it with
 * PINLAB_PROMOTE=1 after an intended change.
 */
import { ERRNO } from "../kernel/include/errno.js";

/** One kernel function as the model implements it. */
export interface KernelRule {
  /** the kernel function: "check_vma_flags" */
  fn: string;
  /** its kernel file: "mm/gup.c" ("" when the model does not say) */
  file: string;
  /** what it decides: the first sentence of the model's TSDoc ("" when none) */
  summary: string;
  /** where the model implements it: "src/kernel/mm/gup_slow.ts" */
  model: string;
  /** errno names it may return, sorted */
  errnos: string[];
  /** spec rules it cites: "VMA-3", "P5", sorted */
  spec: string[];
  /** trace events it emits, sorted */
  events: string[];
}

export interface SourceFile {
  /** path from the repository root: "src/kernel/mm/gup.ts" */
  path: string;
  text: string;
}

const KFILE = /\b((?:mm|fs|kernel|drivers|io_uring|net|virt|arch|include|block|lib)\/[\w./-]+\.[ch])\b/;
const WHERE =
  /"((?:mm|fs|kernel|drivers|io_uring|net|virt|arch|include|block|lib)\/[\w./-]+\.[ch]): (\w+)\(\)"/g;
const SPEC_ID = /\[([A-Z]+)-(\d+[a-z]?(?:\s*,\s*\d+[a-z]?)*)\]/g;
const P_RULE = /\bP(10|[0-9])\b/g;
const ERRNO_USE = /-\s*(E[A-Z0-9]+)\b/g;
const FN_START = /^(?:export\s+)?(?:async\s+)?function\s+([A-Za-z_$][\w$]*)/;
const CLASS_START = /^(?:export\s+)?(?:abstract\s+)?class\s+\w+/;
const METHOD_START =
  /^ {2}(?:(?:public|private|protected|static|readonly|override|get|set)\s+)*([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\(/;
/** Words that look like methods at two spaces of indentation but are not. */
const NOT_METHODS = new Set(["constructor", "if", "for", "while", "switch", "return", "catch"]);

/** Where a doc comment's text starts: strip "/**", " * " and "*\/". */
function docText(lines: string[]): string {
  return lines
    .map((l) =>
      l
        .replace(/^\s*\/\*\*\s?/, "")
        .replace(/\s*\*\/\s*$/, "")
        .replace(/^\s*\*\s?/, ""),
    )
    .join("\n")
    .trim();
}

/** The doc comment ending right above line i, if any. */
function docAbove(lines: string[], i: number): string {
  let j = i - 1;
  if (j < 0 || !lines[j].trim().endsWith("*/")) return "";
  const end = j;
  while (j >= 0 && !lines[j].trim().startsWith("/**")) j--;
  return j < 0 ? "" : docText(lines.slice(j, end + 1));
}

/** The first sentence of a doc, one line, without a leading "name(): ". */
function summaryOf(doc: string, fn: string): string {
  let t = doc
    .split(/\n\s*\n/)[0]
    .replace(/\s+/g, " ")
    .trim();
  t = t.replace(new RegExp(`^${fn}\\(\\)(?: \\([^)]*\\))?:\\s*`), "");
  if (/^[\w.]+\(\)\.?$/.test(t)) return "";
  const m = /[.;](?:\s|$)/.exec(t);
  if (m && m.index > 15) t = t.slice(0, m.index + 1);
  if (t.length > 220) t = t.slice(0, 219).replace(/\s+\S*$/, "") + " …";
  return t;
}

function specIds(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPEC_ID)) for (const n of m[2].split(/\s*,\s*/)) out.push(`${m[1]}-${n}`);
  for (const m of text.matchAll(P_RULE)) out.push(`P${m[1]}`);
  return out;
}

function eventsIn(body: string): string[] {
  const out: string[] = [];
  let at = body.indexOf("trace.emit(");
  while (at >= 0) {
    let depth = 0;
    let i = at + "trace.emit(".length;
    const start = i;
    for (; i < body.length; i++) {
      const c = body[i];
      if (c === "(") depth++;
      else if (c === ")") depth--;
      else if (c === "," && depth === 0) break;
    }
    for (const m of body.slice(start, i).matchAll(/"([a-z][a-z0-9_]*)"/g)) out.push(m[1]);
    at = body.indexOf("trace.emit(", i);
  }
  return out;
}

interface Block {
  name: string;
  /** first line (the signature) */
  start: number;
  /** the closing line */
  end: number;
  doc: string;
}

/** Top-level functions and class methods, with their doc comments. */
function blocks(lines: string[]): Block[] {
  const out: Block[] = [];
  let inClass = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (CLASS_START.test(l)) {
      inClass = true;
      continue;
    }
    if (inClass && l === "}") {
      inClass = false;
      continue;
    }
    const fm = FN_START.exec(l);
    const mm = inClass ? METHOD_START.exec(l) : null;
    const name = fm?.[1] ?? (mm && !NOT_METHODS.has(mm[1]) ? mm[1] : null);
    if (!name) continue;
    const close = fm ? "}" : "  }";
    // a one-line signature ending in ";" is an overload or declaration
    if (/;\s*$/.test(l)) continue;
    let end = i;
    while (end < lines.length && lines[end] !== close) end++;
    if (end >= lines.length) continue;
    out.push({ name, start: i, end, doc: docAbove(lines, i) });
    if (fm) i = end;
  }
  return out;
}

function merge(into: KernelRule, from: KernelRule): void {
  const u = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
  into.errnos = u(into.errnos, from.errnos);
  into.spec = u(into.spec, from.spec);
  into.events = u(into.events, from.events);
  if (!into.summary) into.summary = from.summary;
  if (!into.file) into.file = from.file;
}

/** The index of kernel rules implemented by these model sources, sorted by function. */
export function extractRules(files: readonly SourceFile[]): KernelRule[] {
  const byKey = new Map<string, KernelRule>();
  const add = (r: KernelRule) => {
    const key = `${r.fn}@${r.file}`;
    const had = byKey.get(key);
    if (had) merge(had, r);
    else byKey.set(key, r);
  };
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const lines = f.text.split("\n");
    const header = lines[0]?.startsWith("/**")
      ? docAbove(lines, lines.findIndex((l) => l.trim().endsWith("*/")) + 1)
      : "";
    const moduleFile = KFILE.exec(header)?.[1] ?? "";
    // module constants naming a rule (const WHERE_PUT = "mm/gup.c: gup_put_folio()"), inlined into bodies
    const consts = [...f.text.matchAll(/^(?:export )?const (\w+) =\s*("[\w./-]+\.[ch]: \w+\(\)");/gm)];
    for (const b of blocks(lines)) {
      let body = lines.slice(b.start, b.end + 1).join("\n");
      for (const c of consts) body = body.replace(new RegExp(`\\b${c[1]}\\b`, "g"), c[2]);
      const docKernel = /^([a-z_][a-z0-9_]*)\(\)/.exec(b.doc)?.[1];
      const fn = docKernel ?? b.name;
      const wheres = [...body.matchAll(WHERE)];
      const file =
        KFILE.exec(b.doc.split(/\n\s*\n/)[0])?.[1] ??
        wheres.find((w) => w[2] === fn)?.[1] ??
        (wheres.length && !moduleFile ? wheres[0][1] : moduleFile);
      const errnos = [...body.matchAll(ERRNO_USE)].map((m) => m[1]).filter((e) => e in ERRNO);
      const rule: KernelRule = {
        fn,
        file,
        summary: summaryOf(b.doc, fn),
        model: f.path,
        errnos: [...new Set(errnos)].sort(),
        spec: [...new Set(specIds(b.doc + "\n" + body))].sort(),
        events: [...new Set(eventsIn(body))].sort(),
      };
      if (!rule.summary && !rule.errnos.length && !rule.events.length && !rule.spec.length) continue;
      add(rule);
      // decisions named by events inside this function: "mm/rmap.c: page_vma_mkclean_one()"
      for (const w of wheres)
        if (w[2] !== fn)
          add({
            fn: w[2],
            file: w[1],
            summary: "",
            model: f.path,
            errnos: [],
            spec: [],
            events: eventsNamedWith(body, w[0]),
          });
    }
  }
  return [...byKey.values()].sort((a, b) =>
    a.fn < b.fn ? -1 : a.fn > b.fn ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0,
  );
}

/** The events emitted with this `where` literal in a body. */
function eventsNamedWith(body: string, whereLiteral: string): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(/trace\.emit\(\s*([^,]+),\s*("[^"]*")/g))
    if (m[2] === whereLiteral) for (const e of m[1].matchAll(/"([a-z][a-z0-9_]*)"/g)) out.push(e[1]);
  return [...new Set(out)].sort();
}
