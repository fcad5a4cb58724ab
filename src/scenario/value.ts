/**
 * Run-time values of the scenario language. A binding holds a call's whole
 * result (DESIGN.md): its return value — used by `=` and comparisons — and
 * a handle on whatever the call produced besides: pins or references (the
 * pin table's records), a pipe, an io_uring registration, a CMA allocation.
 * `dev: dma_read(x)` works on whatever `x` pinned.
 */
import { formatRet } from "../kernel/include/errno.js";
import { MOVE_PAGES_STATUS_UNSET } from "../kernel/mm/move_pages.js";
import type { PinRecord } from "../kernel/drivers/pin_table.js";
import type { SymVocab } from "./vocab.js";

/** What a handle is: the kinds the call table's results and arguments name. */
export const HANDLE_KINDS = {
  pins: "FOLL_PIN pins taken through a pin_user_pages*() call",
  refs: "FOLL_GET references taken through a get_user_pages*() call",
  io_uring: "an io_uring fixed-buffer registration (long-term pins)",
  pipe: "a pipe: its read and write descriptors, and the pages spliced into it",
  cma: "a CMA allocation",
  status: "the per-page status array of a move_pages() call",
} as const;
export type HandleKind = keyof typeof HANDLE_KINDS;

/** What a call produced besides its return value. Implementations fill what applies. */
export interface Handle {
  kind: HandleKind;
  /** pin/reference records held (pins, refs, io_uring, pipe pages) */
  pins: PinRecord[];
  /** descriptors it produced: a pipe's [read, write] */
  fds: number[];
  /** first pfn and page count of a physical allocation (cma) */
  pfn?: number;
  count?: number;
  /** move_pages(2)'s status array, as the kernel left it */
  status?: number[];
  /** the implementation's own object, opaque to the runner */
  object?: unknown;
}

export type Value =
  | { kind: "int"; n: number; handle?: Handle }
  | { kind: "bool"; b: boolean }
  | { kind: "sym"; vocab: SymVocab; name: string }
  /** an observer found nothing there (an unmapped address) */
  | { kind: "none" };

/** What a comparison needs of a value (the oracle's side values share the shape). */
export type ComparableValue =
  | { kind: "int"; n: number }
  | { kind: "bool"; b: boolean }
  | { kind: "sym"; name: string }
  | { kind: "none" };

/** `l OP r` as the language compares: numbers by value, truth values and symbols by equality. */
export function compareValues(op: string, l: ComparableValue, r: ComparableValue): boolean {
  if (l.kind === "int" && r.kind === "int") {
    switch (op) {
      case "==":
        return l.n === r.n;
      case "!=":
        return l.n !== r.n;
      case "<":
        return l.n < r.n;
      case "<=":
        return l.n <= r.n;
      case ">":
        return l.n > r.n;
      case ">=":
        return l.n >= r.n;
    }
    return false;
  }
  const eq =
    l.kind === r.kind &&
    ((l.kind === "bool" && r.kind === "bool" && l.b === r.b) ||
      (l.kind === "sym" && r.kind === "sym" && l.name === r.name) ||
      l.kind === "none");
  if (op === "==") return eq;
  if (op === "!=") return !eq;
  return false;
}

export const int = (n: number, handle?: Handle): Value =>
  handle ? { kind: "int", n, handle } : { kind: "int", n };
export const bool = (b: boolean): Value => ({ kind: "bool", b });
export const sym = (vocab: SymVocab, name: string): Value => ({ kind: "sym", vocab, name });
export const NONE: Value = { kind: "none" };

/** How the result of a call of this kind should read: addresses in hex, errors by name. */
export type Radix = "dec" | "hex";

export function formatNumber(n: number, radix: Radix = "dec"): string {
  if (n < 0) return formatRet(n);
  return radix === "hex" ? "0x" + n.toString(16) : String(n);
}

/** Pages a handle still holds pinned (FOLL_PIN records not yet released). */
export function pinnedPages(h: Handle | undefined): number {
  if (!h) return 0;
  let n = 0;
  for (const r of h.pins) if (!r.released && r.kind === "pin") n += r.pages.length;
  return n;
}

/** Pages a handle still holds by FOLL_GET reference. */
export function referencedPages(h: Handle | undefined): number {
  if (!h) return 0;
  let n = 0;
  for (const r of h.pins) if (!r.released && r.kind === "ref") n += r.pages.length;
  return n;
}

export function formatValue(v: Value, radix: Radix = "dec"): string {
  switch (v.kind) {
    case "int": {
      const base = formatNumber(v.n, radix);
      const h = v.handle;
      if (!h) return base;
      if (h.kind === "status") return `${base} (status: ${(h.status ?? []).map(formatStatus).join(", ")})`;
      const held =
        h.kind === "cma" ? `${h.count ?? 0} pages` : `${pinnedPages(h) + referencedPages(h)} pages held`;
      return `${base} (${h.kind}: ${held})`;
    }
    case "bool":
      return String(v.b);
    case "sym":
      return v.name;
    case "none":
      return "not mapped";
  }
}

/** A move_pages(2) status entry: a node, -errno, or "unwritten" where the kernel wrote nothing. */
export function formatStatus(n: number): string {
  return n === MOVE_PAGES_STATUS_UNSET ? "unwritten" : formatRet(n);
}

/** The JSON form of a value in run results. */
export type ValueJson =
  | {
      kind: "int";
      n: number;
      text: string;
      handle?: { kind: HandleKind; pins: number[]; pinned: number; referenced: number; status?: number[] };
    }
  | { kind: "bool"; b: boolean }
  | { kind: "sym"; vocab: SymVocab; name: string }
  | { kind: "none" };

export function valueJson(v: Value, radix: Radix = "dec"): ValueJson {
  if (v.kind !== "int") return v;
  const out: ValueJson = { kind: "int", n: v.n, text: formatNumber(v.n, radix) };
  if (v.handle)
    out.handle = {
      kind: v.handle.kind,
      pins: v.handle.pins.map((r) => r.id),
      pinned: pinnedPages(v.handle),
      referenced: referencedPages(v.handle),
      ...(v.handle.status ? { status: v.handle.status } : {}),
    };
  return out;
}
