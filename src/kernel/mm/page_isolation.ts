/**
 * Pageblock isolation and contiguous allocation (mm/page_isolation.c,
 * mm/page_alloc.c: alloc_contig_range()). Isolation marks pageblocks
 * MIGRATE_ISOLATE so freed pages stay put and no allocation takes them;
 * then every in-use page is migrated away and the range, now all free, is
 * taken. A pinned page is "movable" to isolation (it is on the LRU) but its
 * migration fails, so the range cannot be had (P6): the caller learns which
 * pfn blocked it.
 */
import { EBUSY, EINTR } from "../include/errno.js";
import { MIGRATE, type MigrateType, pageblock_nr_pages, pageblock_order, ZONE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { NIL } from "./memmap.js";

export type IsolateMode = "cma_alloc" | "mem_offline" | "other";

/** Migrate one in-use folio out of the way: 0 or -errno. Supplied by mm/migrate. */
export type MigrateFolioFn = (k: Kernel, folio: number) => number;

/**
 * has_unmovable_pages(): the first page of a pageblock that can never be
 * moved (reserved, kernel allocations, non-LRU large folios), or NIL. CMA
 * pageblocks are accepted wholesale for CMA allocation; ZONE_MOVABLE
 * blocks only check for reserved pages.
 */
export function has_unmovable_pages(k: Kernel, start: number, end: number, mode: IsolateMode): number {
  const mm = k.memmap;
  if (k.pa.get_pageblock_migratetype(start) === MIGRATE.CMA) return mode === "cma_alloc" ? NIL : start;
  const movableZone = k.pa.zoneIdOf(start) === ZONE.MOVABLE;
  for (let pfn = start; pfn < end; pfn++) {
    if (mm.isPristine(pfn)) {
      pfn += pageblock_nr_pages - 1 - (pfn % pageblock_nr_pages);
      continue;
    }
    const f = mm.flags(pfn);
    if (f & PG.reserved) return pfn;
    if (movableZone) continue;
    if (f & PG.hugetlb) {
      const head = mm.head(pfn);
      if (mm.order(head) > 10) return pfn; // gigantic pages are not migratable
      pfn = head + (1 << mm.order(head)) - 1;
      continue;
    }
    if (f & (PG.head | PG.tail)) {
      const head = mm.head(pfn);
      if (!mm.test(head, PG.lru)) return pfn;
      pfn = head + (1 << mm.order(head)) - 1;
      continue;
    }
    if (mm.refcount(pfn) === 0) {
      if (f & PG.buddy) pfn += (1 << mm.order(pfn)) - 1;
      continue;
    }
    if (f & PG.lru) continue;
    return pfn;
  }
  return NIL;
}

export interface IsolatedRange {
  start: number;
  end: number;
  /** migratetype of each pageblock before isolation */
  saved: MigrateType[];
}

/**
 * start_isolate_page_range(): isolate every pageblock of [start, end), or
 * fail with -EBUSY (and the blocking pfn) leaving nothing isolated.
 */
export function start_isolate_page_range(
  k: Kernel,
  start: number,
  end: number,
  mode: IsolateMode,
): IsolatedRange | { err: number; blocker: number } {
  const pbStart = start - (start % pageblock_nr_pages);
  // an isolated pageblock's pristine memory must be on its free lists first

  const saved: MigrateType[] = [];
  for (let pb = pbStart; pb < end; pb += pageblock_nr_pages) {
    const mt = k.pa.get_pageblock_migratetype(pb);
    const bad = mt === MIGRATE.ISOLATE ? pb : has_unmovable_pages(k, pb, pb + pageblock_nr_pages, mode);
    if (bad !== NIL) {
      undo_isolate_page_range(k, { start: pbStart, end: pb, saved });
      return { err: -EBUSY, blocker: bad };
    }
    saved.push(mt);
    k.pa.materialize(pb);
    // split_large_buddy(): a free block spanning several pageblocks is cut to pageblock size
    const big = findBuddyHead(k, pb);
    if (big !== NIL && k.memmap.order(big) > pageblock_order) {
      const order = k.pa.takeFreeBlock(big);
      for (let p = big; p < big + (1 << order); p += pageblock_nr_pages)
        k.pa.__free_pages_nomerge(p, pageblock_order);
    }
    // set_migratetype_isolate(): move the block's free pages to the isolate list
    k.pa.moveFreepagesBlock(k.pa.zoneOf(pb), pb, mt, MIGRATE.ISOLATE);
    k.pa.setPageblockMt(pb, pageblock_nr_pages, MIGRATE.ISOLATE);
  }
  return { start: pbStart, end, saved };
}

/** undo_isolate_page_range(): restore each block's migratetype and its free pages. */
export function undo_isolate_page_range(k: Kernel, r: IsolatedRange): void {
  let i = 0;
  for (let pb = r.start; pb < r.end && i < r.saved.length; pb += pageblock_nr_pages, i++) {
    const mt = r.saved[i];
    k.pa.moveFreepagesBlock(k.pa.zoneOf(pb), pb, MIGRATE.ISOLATE, mt);
    k.pa.setPageblockMt(pb, pageblock_nr_pages, mt);
  }
}

/** The in-use folios of [start, end), heads in pfn order (scan_movable_pages()). */
export function used_folios(k: Kernel, start: number, end: number): number[] {
  const mm = k.memmap;
  const out: number[] = [];
  for (let pfn = start; pfn < end;) {
    if (mm.isPristine(pfn)) {
      pfn += pageblock_nr_pages - (pfn % pageblock_nr_pages);
      continue;
    }
    const f = mm.flags(pfn);
    if (f & PG.buddy) {
      pfn += 1 << mm.order(pfn);
      continue;
    }
    const head = mm.head(pfn);
    if (mm.refcount(head) > 0 && !(f & PG.reserved)) out.push(head);
    pfn = head + (1 << mm.order(head));
  }
  return out;
}

export interface ContigResult {
  ret: number;
  /** the folio whose migration failed, when ret is -EBUSY */
  blocker: number;
}

/**
 * alloc_contig_range(): isolate, migrate everything in use (up to 5 rounds
 * without progress, __alloc_contig_migrate_range()), check that the range
 * is all free, and take it. On failure the isolation is undone.
 */
export function alloc_contig_range(
  k: Kernel,
  start: number,
  end: number,
  mode: IsolateMode,
  migrate: MigrateFolioFn,
): ContigResult {
  const iso = start_isolate_page_range(k, start, end, mode);
  if ("err" in iso) return { ret: iso.err, blocker: iso.blocker };
  let blocker = NIL;
  let tries = 0;
  for (;;) {
    if (k.current?.fatalSignal) {
      undo_isolate_page_range(k, iso);
      return { ret: -EINTR, blocker: NIL };
    }
    const used = used_folios(k, start, end);
    if (used.length === 0) break;
    let progress = false;
    let firstStuck = NIL;
    for (const folio of used) {
      if (migrate(k, folio) === 0) progress = true;
      else if (firstStuck === NIL) firstStuck = folio;
    }
    blocker = firstStuck;
    if (!progress && ++tries >= 5) {
      undo_isolate_page_range(k, iso);
      k.trace.emit("alloc_contig_failed", "mm/page_alloc.c: __alloc_contig_migrate_range()", {
        start,
        end,
        blocker,
      });
      return { ret: -EBUSY, blocker };
    }
  }
  // test_pages_isolated() passed: take every free block of the range
  for (let pfn = start; pfn < end;) {
    if (!k.pa.isFreeBuddy(pfn)) {
      // the block containing pfn begins before it: split it down
      const head = findBuddyHead(k, pfn);
      if (head === NIL) {
        undo_isolate_page_range(k, iso);
        return { ret: -EBUSY, blocker: pfn };
      }
      splitFreeBlockAt(k, head, pfn);
      continue;
    }
    const order = k.memmap.order(pfn);
    if (pfn + (1 << order) > end) {
      splitFreeBlockAt(k, pfn, end);
      continue;
    }
    k.pa.takeFreeBlock(pfn);
    for (let p = pfn; p < pfn + (1 << order); p++) {
      k.memmap.setFlagsWord(p, 0);
      k.memmap.setRefcount(p, 1);
    }
    pfn += 1 << order;
  }
  undo_isolate_page_range(k, iso);
  k.trace.emit("alloc_contig", "mm/page_alloc.c: alloc_contig_range()", { start, end });
  return { ret: 0, blocker: NIL };
}

function findBuddyHead(k: Kernel, pfn: number): number {
  if (k.pa.isFreeBuddy(pfn)) return pfn;
  for (let o = 1; o <= 10; o++) {
    const head = pfn & ~((1 << o) - 1);
    if (k.pa.isFreeBuddy(head) && k.memmap.order(head) >= o) return head;
  }
  return NIL;
}

/** Split the free block at head so that `at` starts a block of its own. */
function splitFreeBlockAt(k: Kernel, head: number, at: number): void {
  const order = k.pa.takeFreeBlock(head);
  // give the pieces back, split into aligned blocks around `at`
  const end = head + (1 << order);
  for (let p = head; p < end;) {
    let o = 0;
    while (o < order && (p & ((2 << o) - 1)) === 0 && p + (2 << o) <= end && !(p < at && p + (2 << o) > at))
      o++;
    k.pa.__free_pages_nomerge(p, o);
    p += 1 << o;
  }
}

export { pageblock_order };
