/**
 * unmovable_pin — DESIGN.md "Hazards": a pin holds a page where the kernel
 * promised pages stay movable (ZONE_MOVABLE, the CMA area).
 *
 * Watches: `migrate_fail`, `compact_skip_pinned`, `alloc_contig_failed`,
 * `offline_failed` — the kernel trying to move a page and failing.
 * Keeps: the pins already reported, and the long-term pins already looked at.
 * Finds:
 *  - long-term pins: at the end of every step, a FOLL_LONGTERM pin whose page
 *    lies in ZONE_MOVABLE, the CMA area or an isolated pageblock. Linux 6.18
 *    migrates such pages before it pins ([LT-2], P5), so this only happens
 *    when it cannot (CONFIG_MIGRATION off, a pin API that skips the check) —
 *    the DESIGN.md example of a long-term pin in ZONE_MOVABLE migrates first
 *    and reports nothing;
 *  - short-term pins (FOLL_PIN without FOLL_LONGTERM): only when one held
 *    across a step boundary actually kept a ZONE_MOVABLE or CMA page from
 *    moving (a failed migration, a skipped compaction, a failed cma_alloc or
 *    offlining). A short-term pin is allowed in movable memory because it is
 *    supposed to be dropped soon (pin, DMA, unpin); the hazard is a driver
 *    holding it while the kernel needs the page to move — the ivtv pattern.
 * FOLL_GET references are not reported here (they are not pins).
 * Rule: mm/gup.c: check_and_migrate_movable_pages() for long-term pins;
 * mm/migrate.c: migrate_pages() refusing pinned folios (P6) for short-term ones.
 */
import { pin_table, type PinRecord } from "../kernel/drivers/pin_table.js";
import type { DetectorContext, HazardDetector } from "./hazard.js";
import { describePin, holders, movableArea, num, numList, pfnText, provenanceOf } from "./provenance.js";

const RULE_LONGTERM =
  "mm/gup.c: check_and_migrate_movable_pages(): a FOLL_LONGTERM pin must not stay in ZONE_MOVABLE or CMA ([LT-2], P5)";
const RULE_SHORTTERM =
  "mm/migrate.c: migrate_pages(): a pinned folio cannot be migrated (P6); only FOLL_LONGTERM pins move out of ZONE_MOVABLE and CMA first (P5)";

export function unmovable_pin(): HazardDetector {
  const reported = new Set<number>();
  /** long-term pins already looked at: a pin's pages and their zones never change */
  const checked = new Set<number>();
  const blocked = (ctx: DetectorContext, pfn: number, what: string) => {
    const k = ctx.machine.k;
    const area = movableArea(k, pfn);
    if (!area) return;
    for (const r of holders(k, pfn)) {
      if (r.kind !== "pin" || r.longterm || reported.has(r.id) || r.step >= ctx.step.step) continue;
      reported.add(r.id);
      const p = provenanceOf(r, ctx);
      ctx.report({
        pfns: [k.memmap.head(pfn)],
        provenance: [p],
        rule: RULE_SHORTTERM,
        message: `${pfnText(k.memmap.head(pfn))} in ${area} could not be moved (${what}): ${describePin(p)} without FOLL_LONGTERM and still held`,
      });
    }
  };
  return {
    hazard: "unmovable_pin",
    watches: ["migrate_fail", "compact_skip_pinned", "alloc_contig_failed", "offline_failed"],
    onEvent(ev, ctx) {
      switch (ev.name) {
        case "migrate_fail":
          blocked(
            ctx,
            num(ev.args.pfn),
            `migration for ${String(ev.args.reason)} failed: ${String(ev.args.why)}`,
          );
          break;
        case "compact_skip_pinned":
          blocked(ctx, num(ev.args.pfn), "compaction skipped it");
          break;
        case "alloc_contig_failed":
          blocked(ctx, num(ev.args.blocker), "alloc_contig_range() failed");
          break;
        case "offline_failed":
          for (const pfn of [num(ev.args.pfn), ...numList(ev.args.stuck)])
            blocked(ctx, pfn, `offlining failed: ${String(ev.args.reason)}`);
          break;
      }
    },
    onStepEnd(ctx) {
      const k = ctx.machine.k;
      for (const r of pin_table(k).live()) {
        if (!r.longterm || r.kind !== "pin" || checked.has(r.id)) continue;
        checked.add(r.id);
        const at = firstUnmovable(ctx, r);
        if (!at) continue;
        reported.add(r.id);
        const p = provenanceOf(r, ctx);
        ctx.report({
          pfns: at.pfns,
          provenance: [p],
          rule: RULE_LONGTERM,
          message: `${pfnText(at.pfns[0])} in ${at.area} is ${describePin(p)}${at.pfns.length > 1 ? ` (with ${at.pfns.length - 1} more folio${at.pfns.length > 2 ? "s" : ""})` : ""}: it can no longer be migrated, so that memory cannot be offlined or allocated contiguously`,
        });
      }
    },
  };
}

/** The folios of a pin that sit in movable memory, with the area of the first. */
function firstUnmovable(ctx: DetectorContext, r: PinRecord): { pfns: number[]; area: string } | null {
  const k = ctx.machine.k;
  const pfns: number[] = [];
  let area: string | null = null;
  let last = -1;
  for (let i = 0; i < r.pages.length; i++) {
    const head = k.memmap.head(r.pages[i]);
    if (head === last) continue;
    last = head;
    const a = movableArea(k, head);
    if (!a) continue;
    area ??= a;
    if (pfns.length < 64) pfns.push(head);
  }
  return area ? { pfns, area } : null;
}
