/**
 * alloc_failure — DESIGN.md "Hazards": cma_alloc, memory offlining or
 * compaction failed because of a pin, explained by its pinner.
 *
 * Watches: `cma_alloc_failed` (mm/cma.c: cma_alloc(), with the folios that
 * blocked each attempt), `offline_failed` (mm/memory_hotplug.c:
 * offline_pages(): the unmovable page, or the folios still in use when it
 * gave up), `compact_skip_pinned` (mm/compaction.c:
 * isolate_migratepages_block() passing over a pinned anon folio).
 * Keeps: the pinned folios compaction skipped in the current step.
 * Finds: one finding per failed cma_alloc or offlining whose blockers are
 * held by a pin or reference of the pin table — "blocked by pfn 0x12345,
 * long-term pinned by io_uring (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM)
 * of process A at line 12" — and one per compaction pass that had to skip
 * pinned folios. A failure with no pinned blocker (no free memory, a page
 * under writeback) is not this hazard.
 * Rule: P6 — anything that needs refcount == expected (migration, CMA,
 * offlining, compaction) fails on a pinned folio.
 */
import type { PinRecord } from "../kernel/drivers/pin_table.js";
import { formatRet } from "../kernel/include/errno.js";
import type { DetectorContext, HazardDetector } from "./hazard.js";
import { describePin, holders, num, numList, pfnText, provenanceOf, provenanceOfAll } from "./provenance.js";

const RULE_CMA =
  "mm/cma.c: cma_alloc() → alloc_contig_range(): a pinned folio cannot be migrated out of the range (P6)";
const RULE_OFFLINE =
  "mm/memory_hotplug.c: offline_pages() → do_migrate_range(): a pinned folio never migrates, offlining retries until a signal (P6)";
const RULE_COMPACT =
  "mm/compaction.c: isolate_migratepages_block(): pinned anon folios are skipped, they cannot migrate (P6)";

/**
 * "pfn 0x…, long-term pinned by …" for the blockers that have pinners,
 * grouped by pinner: "pfn 0x80000 and 15 more folios, pinned by v4l2 (…)".
 */
function blockedBy(
  ctx: DetectorContext,
  pfns: readonly number[],
): { text: string; pfns: number[]; pins: PinRecord[] } | null {
  const k = ctx.machine.k;
  const heads: number[] = [];
  const pins: PinRecord[] = [];
  /** pinner description → the folios it blocks */
  const groups = new Map<string, number[]>();
  for (const pfn of pfns) {
    const hs = holders(k, pfn);
    if (hs.length === 0) continue;
    const head = k.memmap.head(pfn);
    if (heads.includes(head)) continue;
    heads.push(head);
    pins.push(...hs);
    const who = hs.map((r) => describePin(provenanceOf(r, ctx))).join(" and ");
    const g = groups.get(who);
    if (g) g.push(head);
    else groups.set(who, [head]);
  }
  if (heads.length === 0) return null;
  const text = [...groups]
    .map(
      ([who, g]) =>
        `${pfnText(g[0])}${g.length > 1 ? ` and ${g.length - 1} more folio${g.length > 2 ? "s" : ""}` : ""}, ${who}`,
    )
    .join("; ");
  return { text, pfns: heads.slice(0, 64), pins };
}

export function alloc_failure(): HazardDetector {
  const skipped: number[] = [];
  return {
    hazard: "alloc_failure",
    watches: ["cma_alloc_failed", "offline_failed", "compact_skip_pinned"],
    onEvent(ev, ctx) {
      switch (ev.name) {
        case "cma_alloc_failed": {
          const b = blockedBy(ctx, numList(ev.args.blockers));
          if (!b) return;
          const count = num(ev.args.count, 0);
          ctx.report({
            pfns: b.pfns,
            provenance: provenanceOfAll(b.pins, ctx),
            rule: RULE_CMA,
            message: `cma_alloc of ${count} page${count === 1 ? "" : "s"} failed (${formatRet(num(ev.args.ret))}): blocked by ${b.text}`,
          });
          return;
        }
        case "offline_failed": {
          const b = blockedBy(
            ctx,
            [num(ev.args.pfn), ...numList(ev.args.stuck)].filter((p) => p >= 0),
          );
          if (!b) return;
          ctx.report({
            pfns: b.pfns,
            provenance: provenanceOfAll(b.pins, ctx),
            rule: RULE_OFFLINE,
            message: `offline_pages failed (${String(ev.args.reason)}${typeof ev.args.passes === "number" ? ` after ${ev.args.passes} passes` : ""}): blocked by ${b.text}`,
          });
          return;
        }
        case "compact_skip_pinned":
          skipped.push(num(ev.args.pfn));
          return;
      }
    },
    onStepEnd(ctx) {
      if (skipped.length === 0) return;
      const b = blockedBy(ctx, skipped);
      const n = new Set(skipped).size;
      skipped.length = 0;
      if (!b) return;
      ctx.report({
        pfns: b.pfns,
        provenance: provenanceOfAll(b.pins, ctx),
        rule: RULE_COMPACT,
        message: `compaction could not move ${n} pinned folio${n === 1 ? "" : "s"}: ${b.text}`,
      });
    },
  };
}
