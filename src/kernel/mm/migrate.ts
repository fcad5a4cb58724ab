/**
 * Page migration (mm/migrate.c, with the isolation helpers of mm/vmscan.c
 * and mm/hugetlb.c): move an in-use folio's content, mappings and
 * page-cache slot to a newly allocated folio. Used by long-term pinning
 * (MR_LONGTERM_PIN, mm/gup.c) and meant for CMA allocation, compaction and
 * memory offlining as well.
 *
 * A migration succeeds only if every reference to the folio is accounted
 * for: its mappings, its page-cache (and fs-private) references, and the
 * caller's isolation reference — folio_expected_ref_count() + the caller's
 * (the refcount freeze of __folio_migrate_mapping()). A pin, a FOLL_GET
 * reference or a pipe's vmsplice reference makes it fail, and the folio
 * stays where it is. The kernel discovers this after unmapping the folio
 * (try_to_migrate()), fails with -EAGAIN, restores the old mappings
 * (remove_migration_ptes(src, src)) and retries up to ten times; the model
 * checks first and fails at once: the observable outcome is the same.
 *
 * Not modelled: the split of a large folio whose large target cannot be
 * allocated (migrate_pages_batch() → try_split_folio(); the model fails
 * the folio instead), KSM folios (rmap_walk_ksm(); refused with -EBUSY),
 * waiting for writeback under MIGRATE_SYNC (a folio under writeback is
 * refused with -EBUSY), swap cache.
 */
import { EAGAIN, EBUSY, ENOMEM } from "../include/errno.js";
import {
  GFP_HIGHUSER_MOVABLE,
  GFP_TRANSHUGE,
  __GFP_COMP,
  __GFP_HIGHMEM,
  __GFP_THISNODE,
} from "../include/gfp.js";
import { HPAGE_PUD_ORDER, NUMA_NO_NODE, PAGE_SIZE, ZONE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import type { Kernel } from "../kernel.js";
import { folio_file_mapping } from "../fs/inode.js";
import { folio_migrate_mapping } from "./filemap.js";
import { folio_expected_ref_count, folio_maybe_dma_pinned, folio_put_refs } from "./folio.js";
import { dequeue_hugetlb_folio, type HState } from "./hugetlb.js";
import { huge_pte_offset } from "./hugetlb_fault.js";
import { NIL } from "./memmap.js";
import { pmd_index, pte_index } from "./pgtable.js";
import { rmap_walk } from "./rmap.js";

/** include/linux/migrate_mode.h: enum migrate_reason (the ones the model uses). */
export type MigrateReason =
  | "compaction"
  | "memory_failure"
  | "memory_hotplug"
  | "syscall_or_cpuset"
  | "numa_misplaced"
  | "contig_range"
  | "longterm_pin";

// --- isolation ----------------------------------------------------------------------------

/**
 * folio_isolate_lru() (mm/vmscan.c): take a folio off the LRU for
 * migration, with a reference. Fails if it is not on an LRU list (already
 * isolated, a kernel page, a hugetlb folio). The model has no per-CPU LRU
 * batches, so lru_add_drain() has nothing to do and a user folio is on the
 * LRU as soon as it exists.
 */
export function folio_isolate_lru(k: Kernel, folio: number): boolean {
  const mm = k.memmap;
  const f = mm.flags(folio);
  if (!(f & PG.lru) || f & (PG.isolated | PG.hugetlb | PG.buddy)) return false;
  if (mm.refcount(folio) <= 0) return false;
  mm.addRefcount(folio, 1);
  mm.setFlagsWord(folio, (f & ~PG.lru) | PG.isolated);
  return true;
}

/** folio_isolate_hugetlb() (mm/hugetlb.c): an in-use hugetlb folio, with a reference. */
export function folio_isolate_hugetlb(k: Kernel, folio: number): boolean {
  const mm = k.memmap;
  const f = mm.flags(folio);
  if (!(f & PG.hugetlb) || f & PG.isolated || mm.refcount(folio) <= 0) return false;
  mm.addRefcount(folio, 1);
  mm.set(folio, PG.isolated);
  return true;
}

/** folio_putback_lru() / folio_putback_hugetlb(): back where it came from, dropping the isolation reference. */
export function folio_putback(k: Kernel, folio: number): void {
  const mm = k.memmap;
  mm.clear(folio, PG.isolated);
  if (!mm.test(folio, PG.hugetlb)) mm.set(folio, PG.lru);
  folio_put_refs(k, folio, 1);
}

/** putback_movable_pages(): every folio still on the list goes back. */
export function putback_movable_pages(k: Kernel, list: number[]): void {
  for (const folio of list) folio_putback(k, folio);
  list.length = 0;
}

// --- targets ---------------------------------------------------------------------------------

/**
 * alloc_migration_target(): a folio of the source's order, on node `nid`
 * or, for NUMA_NO_NODE, the source's own node (mtc->nid, folio_nid()).
 * Other nodes are the fallback unless gfp has __GFP_THISNODE (move_pages(2)). Large folios
 * add GFP_TRANSHUGE (movable: under PF_MEMALLOC_PIN current_gfp_context()
 * strips __GFP_MOVABLE again); a source in ZONE_MOVABLE adds __GFP_HIGHMEM.
 * hugetlb sources get a pool folio (alloc_hugetlb_folio_nodemask()).
 * Returns the head pfn with refcount 1, or NIL.
 */
export function alloc_migration_target(k: Kernel, src: number, gfp: number, nid = NUMA_NO_NODE): number {
  const mm = k.memmap;
  if (nid === NUMA_NO_NODE) nid = k.pa.page_to_nid(src);
  if (mm.test(src, PG.hugetlb))
    return alloc_hugetlb_folio_nodemask(k, src, nid, (gfp & __GFP_THISNODE) !== 0);
  const order = mm.order(src);
  if (order > 0) gfp |= GFP_TRANSHUGE;
  if (k.pa.zoneIdOf(src) === ZONE.MOVABLE) gfp |= __GFP_HIGHMEM;
  return k.pa.alloc_pages(gfp, order, mm.flags(src) & PG.large_rmappable, nid);
}

/**
 * alloc_hugetlb_folio_nodemask(): a free pool folio beyond the reservations
 * (dequeue, which skips folios that are not longterm-pinnable under
 * PF_MEMALLOC_PIN), else a fresh "temporary" folio from the buddy
 * allocator (alloc_migrate_hugetlb_folio(); never for gigantic pages).
 * After the migration move_hugetlb_state() makes the *old* folio the
 * temporary one, so the pool keeps its size and the old folio goes back to
 * the buddy allocator when freed; the model gets the same effect by
 * counting the fresh folio as surplus (free_huge_folio() then returns the
 * first folio freed to the buddy allocator).
 */
function alloc_hugetlb_folio_nodemask(k: Kernel, src: number, nid: number, thisNode: boolean): number {
  const mm = k.memmap;
  const order = mm.order(src);
  const h: HState | undefined = k.hstates.find((x) => x.order === order);
  if (!h) return NIL;
  let pfn = NIL;
  if (h.freeHugePages - h.resvHugePages > 0) pfn = dequeue_hugetlb_folio(k, h, nid, thisNode);
  if (pfn === NIL) {
    if (h.order === HPAGE_PUD_ORDER) return NIL;
    pfn = k.pa.alloc_pages(
      GFP_HIGHUSER_MOVABLE | __GFP_COMP | (thisNode ? __GFP_THISNODE : 0),
      h.order,
      PG.hugetlb,
      nid,
    );
    if (pfn === NIL) {
      k.vmstat.htlb_buddy_alloc_fail++;
      return NIL;
    }
    k.vmstat.htlb_buddy_alloc_success++;
    h.nrHugePages++;
    h.surplusHugePages++;
  }
  mm.makeFolio(pfn, h.order, PG.hugetlb);
  mm.setRefcount(pfn, 1);
  return pfn;
}

// --- moving one folio ---------------------------------------------------------------------------

/** Flags a migrated folio carries over (folio_migrate_flags()); page-cache ones move with the mapping. */
const CARRY_FLAGS =
  PG.anon | PG.swapbacked | PG.uptodate | PG.dirty | PG.referenced | PG.active | PG.mlocked | PG.unevictable;

/** Point every page-table entry that maps src at the same page of dst (remove_migration_ptes()). */
function replace_mappings(k: Kernel, src: number, dst: number, nr: number): void {
  rmap_walk(k, src, (vma, addr, first, n) => {
    void first;
    if (vma.isHugetlb()) {
      const e = huge_pte_offset(vma, addr, false);
      if (e && e.bits[e.i] & PTE.PRESENT && e.pfn[e.i] === src) e.pfn[e.i] = dst;
      return;
    }
    const pt = vma.vm_mm.pgtables;
    for (let j = 0; j < n; j++) {
      const a = addr + j * PAGE_SIZE;
      const pmdt = pt.pmdTable(a, false);
      if (!pmdt) continue;
      const mi = pmd_index(a);
      if (pmdt.bits[mi] & PTE.LEAF) {
        if (pmdt.pfn[mi] === src) pmdt.pfn[mi] = dst;
        continue;
      }
      const t = pmdt.pte[mi];
      if (!t) continue;
      const i = pte_index(a);
      const p = t.pfn[i];
      if (t.bits[i] & PTE.PRESENT && p >= src && p < src + nr) t.pfn[i] = dst + (p - src);
    }
  });
}

/**
 * Migrate one folio the caller has isolated (holding `callerRefs`
 * references, 1 for the isolation) to a new folio allocated with `gfp`
 * (alloc_migration_target()). On success every mapping and the page-cache
 * slot point at the new folio, the old one is freed, and the new head pfn
 * is returned. Failures leave everything in place and the folio isolated:
 *  - -EAGAIN: unexpected references (the refcount-expectation check of
 *    __folio_migrate_mapping(): refcount ≠ folio_expected_ref_count() + callerRefs),
 *    or a page-cache folio that is no longer in its mapping;
 *  - -EBUSY: KSM folio, or folio under writeback (not modelled, see header);
 *  - -ENOMEM: no target folio.
 */
export function migrate_folio_to(
  k: Kernel,
  folio: number,
  gfp: number,
  reason: MigrateReason,
  callerRefs = 1,
  /** a target the caller allocated (compaction's free scanner), else alloc_migration_target() */
  target = NIL,
  /** the target node (mtc->nid); NUMA_NO_NODE: the folio's own node */
  nid = NUMA_NO_NODE,
): number {
  const mm = k.memmap;
  const order = mm.order(folio);
  const nr = 1 << order;
  const expected = folio_expected_ref_count(k, folio) + callerRefs;
  const refcount = mm.refcount(folio);
  const fail = (ret: number, why: string): number => {
    k.vmstat.pgmigrate_fail += nr;
    if (k.trace.enabled)
      k.trace.emit("migrate_fail", "mm/migrate.c: migrate_pages()", {
        pfn: folio,
        reason,
        why,
        refcount,
        expected,
        pinned: folio_maybe_dma_pinned(k, folio),
      });
    return ret;
  };
  if (refcount !== expected) return fail(-EAGAIN, "unexpected references");
  if (mm.test(folio, PG.ksm)) return fail(-EBUSY, "KSM folio");
  if (mm.test(folio, PG.writeback)) return fail(-EBUSY, "under writeback");
  const anon = mm.test(folio, PG.anon);
  const file = !anon && mm.mapping(folio) !== 0;
  if (file && !folio_file_mapping(k, folio)) return fail(-EAGAIN, "not in its page cache");
  const dst = target !== NIL ? target : alloc_migration_target(k, folio, gfp, nid);
  if (dst === NIL) return fail(-ENOMEM, "no target folio");

  // content, flags, per-page exclusivity and mapcounts (folio_migrate_flags(), remove_migration_ptes())
  const large = order > 0;
  for (let i = 0; i < nr; i++) {
    const s = folio + i;
    const d = dst + i;
    mm.setContent(d, mm.content(s));
    if (mm.test(s, PG.anon_exclusive)) mm.set(d, PG.anon_exclusive);
    mm.setMapcount(d, mm.mapcount(s));
    mm.setMapcount(s, 0);
    mm.clear(s, PG.anon_exclusive);
  }
  const carried = mm.flags(folio) & CARRY_FLAGS;
  if (large) {
    // _large_mapcount and _entire_mapcount live in page[1]
    mm.setMapping(dst + 1, mm.mapping(folio + 1));
    mm.setIndex(dst + 1, mm.index(folio + 1));
    mm.setMapping(folio + 1, 0);
    mm.setIndex(folio + 1, 0);
  }
  replace_mappings(k, folio, dst, nr);
  // the mappings' references move with them; the page cache moves its own
  let mapRefs = refcount - callerRefs;
  if (file) {
    mapRefs -= nr + (mm.test(folio, PG.private) ? 1 : 0);
    folio_migrate_mapping(k, folio, dst);
  } else {
    mm.setMapping(dst, mm.mapping(folio));
    mm.setIndex(dst, mm.index(folio));
    mm.setMapping(folio, 0);
  }
  mm.set(dst, carried | (mm.test(dst, PG.hugetlb) ? 0 : PG.lru));
  mm.addRefcount(dst, mapRefs);
  mm.addRefcount(folio, -mapRefs);
  if (k.deferredSplit.delete(folio)) k.deferredSplit.add(dst);
  k.vmstat.pgmigrate_success += nr;
  if (k.trace.enabled)
    k.trace.emit("migrate_folio", "mm/migrate.c: migrate_folio_move()", {
      from: folio,
      to: dst,
      order,
      reason,
      fromZone: k.pa.zoneIdOf(folio),
      toZone: k.pa.zoneIdOf(dst),
      // nodes only where there are several, so one-node traces stay as they were
      ...(k.pa.nodes.length > 1 ? { fromNode: k.pa.page_to_nid(folio), toNode: k.pa.page_to_nid(dst) } : {}),
    });
  // migrate_folio_done(): the caller's references go, and with them the old folio
  mm.clear(folio, PG.isolated);
  mm.clear(folio, CARRY_FLAGS);
  folio_put_refs(k, folio, callerRefs);
  // the allocation reference of dst is dropped once it is on the LRU / back in hugetlb's active list
  folio_put_refs(k, dst, 1);
  return dst;
}

/**
 * migrate_pages(): migrate every isolated folio on the list. Migrated
 * folios leave the list; the ones that failed stay for
 * putback_movable_pages(). Returns the number that failed (0: all moved).
 */
export function migrate_pages(k: Kernel, list: number[], gfp: number, reason: MigrateReason): number {
  let failed = 0;
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    const folio = list[r];
    if (migrate_folio_to(k, folio, gfp, reason, 1) < 0) {
      failed++;
      list[w++] = folio;
    }
  }
  list.length = w;
  return failed;
}

/**
 * Migrate one in-use folio out of its place (isolate, migrate, put back on
 * failure): the `MigrateFolioFn` of alloc_contig_range() and offlining.
 * Returns 0 or -errno (-EBUSY when it cannot be isolated).
 */
export function migrate_folio_out(
  k: Kernel,
  folio: number,
  gfp = GFP_HIGHUSER_MOVABLE,
  reason: MigrateReason = "contig_range",
): number {
  const hugetlb = k.memmap.test(folio, PG.hugetlb);
  if (!(hugetlb ? folio_isolate_hugetlb(k, folio) : folio_isolate_lru(k, folio))) return -EBUSY;
  const r = migrate_folio_to(k, folio, gfp, reason, 1);
  if (r < 0) {
    folio_putback(k, folio);
    return r;
  }
  return 0;
}
