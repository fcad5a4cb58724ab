/**
 * Pin provenance seen from outside the model: a pin table record
 * (src/kernel/drivers/pin_table.ts) turned into the PinProvenance a finding
 * carries, and the one sentence every detector uses to name a pinner —
 * "long-term pinned by io_uring (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM)
 * of process A at line 12". Helpers shared by the detectors live here so
 * that each detector module holds only its own rule.
 */
import { pin_table, type PinRecord } from "../kernel/drivers/pin_table.js";
import { formatFoll } from "../kernel/include/foll_flags.js";
import { MIGRATE, ZONE } from "../kernel/include/mmzone.js";
import type { Kernel } from "../kernel/kernel.js";
import type { DetectorContext, PinProvenance } from "./hazard.js";

/** "pfn 0x12345" */
export function pfnText(pfn: number): string {
  return `pfn 0x${pfn.toString(16)}`;
}

/** "0x7f0000000000" */
export function hexText(n: number): string {
  return n < 0 ? String(n) : `0x${n.toString(16)}`;
}

/** A pin table record as a finding reports it. */
export function provenanceOf(r: PinRecord, ctx: DetectorContext): PinProvenance {
  const p: PinProvenance = {
    pin: r.id,
    kind: r.kind,
    longterm: r.longterm,
    owner: r.owner,
    api: r.api,
    flags: formatFoll(r.flags),
    process: ctx.processName(r.pid),
    start: r.start,
    nrPages: r.nrPages,
    step: r.step,
  };
  const line = ctx.lineOf(r.step);
  if (line !== undefined) p.line = line;
  return p;
}

/** Provenance of several records, each once, in pin order. */
export function provenanceOfAll(rs: Iterable<PinRecord>, ctx: DetectorContext): PinProvenance[] {
  const seen = new Map<number, PinRecord>();
  for (const r of rs) seen.set(r.id, r);
  return [...seen.values()].sort((a, b) => a.id - b.id).map((r) => provenanceOf(r, ctx));
}

/**
 * "long-term pinned by io_uring (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM)
 * of process A at line 12" — "referenced by" for FOLL_GET references, "at
 * step N" when the scenario has no source text.
 */
export function describePin(p: PinProvenance): string {
  const what = p.kind === "pin" ? (p.longterm ? "long-term pinned" : "pinned") : "referenced";
  const how = p.flags === "0" ? p.api : `${p.api} ${p.flags}`;
  const when = p.line !== undefined ? `at line ${p.line}` : `at step ${p.step}`;
  return `${what} by ${p.owner} (${how}) of process ${p.process} ${when}`;
}

/** "pin 3 (long-term pinned by …)" joined with "; " — for messages naming several pinners. */
export function describeAll(ps: readonly PinProvenance[]): string {
  return ps.map(describePin).join("; ");
}

/** The pin table record with this id, or undefined (an id from an event of another machine). */
export function pinRecord(k: Kernel, id: unknown): PinRecord | undefined {
  return typeof id === "number" ? pin_table(k).records.get(id) : undefined;
}

/** Live records holding the folio that contains pfn. */
export function holders(k: Kernel, pfn: number): PinRecord[] {
  if (!Number.isInteger(pfn) || pfn < 0 || pfn >= k.memmap.nrPages) return [];
  return pin_table(k).holding(k, pfn);
}

/** A numeric event argument, or `fallback` when the event lacks it. */
export function num(v: unknown, fallback = -1): number {
  return typeof v === "number" ? v : fallback;
}

/** "1,2,3" (the kernel's list arguments in trace events) as numbers. */
export function numList(v: unknown): number[] {
  if (typeof v !== "string" || v === "") return [];
  return v
    .split(",")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0);
}

/** Where a page sits, for "unmovable" verdicts: ZONE_MOVABLE, a CMA or an isolated pageblock, or null. */
export function movableArea(k: Kernel, pfn: number): string | null {
  if (!Number.isInteger(pfn) || pfn < 0 || pfn >= k.memmap.nrPages) return null;
  if (k.pa.zoneIdOf(pfn) === ZONE.MOVABLE) return "ZONE_MOVABLE";
  const cma = k.cmaRange;
  if (cma && pfn >= cma[0] && pfn < cma[1]) return "the CMA area";
  const mt = k.pa.get_pageblock_migratetype(pfn);
  if (mt === MIGRATE.CMA) return "a CMA pageblock";
  if (mt === MIGRATE.ISOLATE) return "an isolated pageblock";
  return null;
}
