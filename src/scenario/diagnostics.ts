/**
 * Scenario diagnostics: every problem the front end or the runner reports,
 * with a stable code numbered by phase (Quint's ErrorCode shape):
 *   PL0xx lexing and parsing, PL1xx names, PL2xx types and arity,
 *   PL3xx values, PL5xx running.
 * Phases collect diagnostics and go on; nothing here throws. A diagnostic
 * names its position, what was expected and a fix ("did you mean").
 */
import type { Loc, NodeId } from "./ast.js";

/** One line of meaning per code. Tests and docs match these. */
export const DIAGNOSTIC_CODES = {
  PL001: "unexpected character",
  PL002: "unterminated string",
  PL003: "malformed number",
  PL004: "unexpected token",
  PL005: "unknown statement",
  PL006: "expression nested too deeply",
  PL007: "invalid JSON scenario",
  PL101: "unknown process or actor",
  PL102: "undefined name",
  PL103: "unknown call",
  PL104: "unknown observer",
  PL105: "unknown constant",
  PL106: "unknown errno",
  PL107: "unknown hazard",
  PL108: "unknown mount kind",
  PL109: "unknown setting",
  PL110: "name declared twice",
  PL111: "reserved name",
  PL112: "process used after exit",
  PL113: "unknown zone or migratetype",
  PL201: "wrong number of arguments",
  PL202: "call not available to this actor",
  PL203: "argument of the wrong kind",
  PL204: "flag of the wrong family",
  PL205: "not a handle",
  PL206: "incomparable operands",
  PL207: "not a condition",
  PL208: "setting of the wrong type",
  PL301: "negative size",
  PL302: "machine configuration rejected",
  PL303: "number out of range",
  PL304: "unsupported kernel",
  PL305: "duplicate statement or setting",
  PL306: "statement out of order",
  PL501: "not implemented by the model yet",
  PL502: "no such process at run time",
  PL503: "runner limit reached",
  PL504: "the model rejected the call",
  PL505: "the machine is halted",
  PL506: "bad value at run time",
  PL599: "internal error",
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface Diagnostic {
  code: DiagnosticCode;
  severity: "error" | "warning";
  /** one sentence: what is wrong */
  message: string;
  /** where (absent for trees built without text) */
  loc?: Loc;
  /** the node it is about, when there is one */
  node?: NodeId;
  /** what the language expected there */
  expected?: string;
  /** how to fix it, e.g. "did you mean `mmap`?" */
  hint?: string;
}

/** Build an error diagnostic, dropping empty optional fields (stable JSON). */
export function diag(
  code: DiagnosticCode,
  message: string,
  where: { loc?: Loc; node?: NodeId } = {},
  extra: { expected?: string; hint?: string } = {},
): Diagnostic {
  const d: Diagnostic = { code, severity: "error", message };
  if (where.loc) d.loc = where.loc;
  if (where.node !== undefined) d.node = where.node;
  if (extra.expected) d.expected = extra.expected;
  if (extra.hint) d.hint = extra.hint;
  return d;
}

/** Sort by position (diagnostics without one last), stable otherwise. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => (d.loc ? d.loc.line * 1e6 + d.loc.col : Number.MAX_SAFE_INTEGER);
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => key(a.d) - key(b.d) || a.i - b.i)
    .map((x) => x.d);
}

/**
 * Render a diagnostic the way compilers do:
 *
 *     f.pin:5:10: error PL103: unknown call `mmapp`
 *       5 | A: buf = mmapp(NULL, 4K, …)
 *         |          ^^^^^
 *       expected: a call: open, close, mmap, …
 *       help: did you mean `mmap`?
 */
export function formatDiagnostic(d: Diagnostic, file: string, source?: string): string {
  const where = d.loc ? `${file}:${d.loc.line}:${d.loc.col}` : file;
  const out = [`${where}: ${d.severity} ${d.code}: ${d.message}`];
  const lines = source?.split(/\r?\n/);
  if (d.loc && lines && d.loc.line >= 1 && d.loc.line <= lines.length) {
    const text = lines[d.loc.line - 1];
    const num = String(d.loc.line);
    const pad = " ".repeat(num.length);
    const start = Math.max(0, Math.min(text.length, d.loc.col - 1));
    const end = d.loc.endLine === d.loc.line ? Math.min(text.length, d.loc.endCol - 1) : text.length;
    const width = Math.max(1, end - start);
    const lead = text.slice(0, start).replace(/[^\t]/g, " ");
    out.push(`  ${num} | ${text}`);
    out.push(`  ${pad} | ${lead}${"^".repeat(width)}`);
  }
  if (d.expected) out.push(`  expected: ${d.expected}`);
  if (d.hint) out.push(`  help: ${d.hint}`);
  return out.join("\n");
}
