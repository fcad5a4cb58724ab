/**
 * Memory compaction (mm/compaction.c: compact_zone(), isolate_migratepages_block(),
 * isolate_freepages()): a migrate scanner walks up from the start of the
 * zone, a free scanner down from the end, and movable pages move from the
 * bottom into free pages at the top until the scanners meet. An anon folio
 * with more references than mappings is not even isolated ("migration will
 * fail if an anonymous page is pinned"); a file folio is tried and fails on
 * the refcount check. Pinned pages therefore stay where they are and keep
 * memory fragmented (gup-semantics.md §3.1, P6).
 *
 * The model compacts order-0 folios into order-0 targets of MOVABLE
 * pageblocks, one full pass per call.
 */
import { MIGRATE, NR_PAGE_ORDERS } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { folio_mapcount, folio_maybe_dma_pinned } from "./folio.js";
import { NIL } from "./memmap.js";
import { folio_isolate_lru, folio_putback, migrate_folio_to } from "./migrate.js";
import type { Zone } from "./page_alloc.js";

export interface CompactResult {
  migrated: number;
  /** anon folios left in place because of unexpected references */
  skippedPinned: number[];
  failed: number;
}

/** isolate_freepages(): the highest free page of a MOVABLE pageblock above `floor`, taken. */
function take_highest_free(k: Kernel, z: Zone, floor: number): number {
  let best = NIL;
  let bestOrder = 0;
  for (const [pfn, order] of k.pa.freeBlocks(z)) {
    if (k.pa.get_pageblock_migratetype(pfn) !== MIGRATE.MOVABLE) continue;
    const top = pfn + (1 << order) - 1;
    if (top <= floor) continue;
    if (best === NIL || top > best + (1 << bestOrder) - 1) {
      best = pfn;
      bestOrder = order;
    }
  }
  if (best === NIL) return NIL;
  k.pa.takeFreeBlock(best);
  // keep the top page, give the rest back
  const top = best + (1 << bestOrder) - 1;
  for (let o = 0, p = best; o < bestOrder; o++) {
    // free the lower aligned pieces: [best, top) as decreasing power-of-two blocks
    const size = 1 << (bestOrder - 1 - o);
    k.pa.__free_pages_nomerge(p, bestOrder - 1 - o);
    p += size;
  }
  k.memmap.setFlagsWord(top, 0);
  k.memmap.setRefcount(top, 1);
  return top;
}

export function compact_zone(k: Kernel, z: Zone): CompactResult {
  const res: CompactResult = { migrated: 0, skippedPinned: [], failed: 0 };
  const mm = k.memmap;
  let freeFloor = z.startPfn;
  for (let pfn = z.startPfn; pfn < z.endPfn;) {
    if (mm.isPristine(pfn) || k.pa.inPristine(pfn)) {
      pfn += 512 - (pfn % 512);
      continue;
    }
    const f = mm.flags(pfn);
    if (f & PG.buddy) {
      pfn += 1 << mm.order(pfn);
      continue;
    }
    const head = mm.head(pfn);
    const next = head + (1 << mm.order(head));
    if (
      !(f & PG.lru) ||
      mm.order(head) > 0 ||
      mm.refcount(head) === 0 ||
      k.pa.get_pageblock_migratetype(pfn) !== MIGRATE.MOVABLE
    ) {
      pfn = next;
      continue;
    }
    freeFloor = pfn;
    // isolate_migratepages_block(): "migration will fail if an anonymous page is pinned"
    if (!mm.mapping(head) || mm.test(head, PG.anon)) {
      if (
        mm.test(head, PG.anon) &&
        mm.refcount(head) > folio_mapcount(k, head) + (mm.test(head, PG.swapcache) ? 1 : 0)
      ) {
        res.skippedPinned.push(head);
        k.trace.emit("compact_skip_pinned", "mm/compaction.c: isolate_migratepages_block()", {
          pfn: head,
          refcount: mm.refcount(head),
          mapcount: folio_mapcount(k, head),
          pinned: folio_maybe_dma_pinned(k, head),
        });
        pfn = next;
        continue;
      }
    }
    const target = take_highest_free(k, z, freeFloor);
    if (target === NIL || target <= pfn) {
      if (target !== NIL) k.pa.__free_pages(target, 0);
      break; // the scanners met
    }
    if (!folio_isolate_lru(k, head)) {
      k.pa.__free_pages(target, 0);
      pfn = next;
      continue;
    }
    const r = migrate_folio_to(k, head, 0, "compaction", 1, target);
    if (r < 0) {
      folio_putback(k, head);
      k.pa.__free_pages(target, 0);
      res.failed++;
    } else res.migrated++;
    pfn = next;
  }
  k.trace.emit("compact_zone", "mm/compaction.c: compact_zone()", {
    zone: z.name,
    migrated: res.migrated,
    skipped_pinned: res.skippedPinned.length,
    failed: res.failed,
  });
  return res;
}

/** compact_node(): every populated zone; returns folios migrated. */
export function compact_node(k: Kernel): CompactResult {
  const all: CompactResult = { migrated: 0, skippedPinned: [], failed: 0 };
  for (const z of k.pa.zones) {
    if (!z || z.managedPages === 0) continue;
    const r = compact_zone(k, z);
    all.migrated += r.migrated;
    all.skippedPinned.push(...r.skippedPinned);
    all.failed += r.failed;
  }
  void NR_PAGE_ORDERS;
  return all;
}
