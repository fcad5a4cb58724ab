/**
 * hugetlb pools (mm/hugetlb.c): per-size hstates with persistent and surplus
 * pages, reservations, and the dequeue rule that keeps long-term pins out of
 * movable memory. Faults on hugetlb VMAs are in hugetlb_fault.ts.
 */
import { GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE, __GFP_COMP } from "../include/gfp.js";
import {
  HPAGE_PMD_ORDER,
  HPAGE_PUD_ORDER,
  MIGRATE,
  NUMA_NO_NODE,
  PAGE_SIZE,
  ZONE,
} from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { PF_MEMALLOC_PIN } from "../kernel/task.js";
import { NIL } from "./memmap.js";

export class HState {
  /** free pool folios, most recently freed last (dequeued from the end) */
  readonly freeList: number[] = [];
  /** nr_huge_pages: pool size including surplus */
  nrHugePages = 0;
  /** surplus_huge_pages */
  surplusHugePages = 0;
  /** resv_huge_pages */
  resvHugePages = 0;
  constructor(
    readonly order: number,
    /** nr_overcommit_hugepages */
    public nrOvercommit: number,
  ) {}
  get name(): string {
    return this.order === HPAGE_PUD_ORDER ? "1G" : "2M";
  }
  get sizeBytes(): number {
    return (1 << this.order) * PAGE_SIZE;
  }
  get freeHugePages(): number {
    return this.freeList.length;
  }
}

/** size_to_hstate() */
export function hstateForSize(k: Kernel, bytes: number): HState | null {
  return k.hstates.find((h) => h.sizeBytes === bytes) ?? null;
}

/** htlb_alloc_mask(): 2 MiB pages are movable (migration supported), gigantic ones are not. */
function htlb_alloc_mask(h: HState): number {
  return (h.order === HPAGE_PMD_ORDER ? GFP_HIGHUSER_MOVABLE : GFP_HIGHUSER) | __GFP_COMP;
}

/**
 * alloc_fresh_hugetlb_folio(): a new huge folio from the buddy allocator
 * (2 MiB) or a contiguous range (1 GiB, alloc_contig_pages()).
 */
function alloc_fresh_hugetlb_folio(k: Kernel, h: HState): number {
  const pfn =
    h.order <= 10 ? k.pa.alloc_pages(htlb_alloc_mask(h), h.order, PG.hugetlb) : allocGigantic(k, h.order);
  if (pfn === NIL) {
    k.vmstat.htlb_buddy_alloc_fail++;
    return NIL;
  }
  k.vmstat.htlb_buddy_alloc_success++;
  k.memmap.setRefcount(pfn, 0);
  return pfn;
}

/**
 * alloc_contig_pages() for gigantic pages, from never-allocated memory of
 * the kernel zones: a naturally aligned range of free order-10 blocks.
 */
function allocGigantic(k: Kernel, order: number): number {
  const nr = 1 << order;
  for (const pgdat of k.pa.nodes)
    for (const zid of [ZONE.NORMAL, ZONE.DMA32]) {
      const z = pgdat.node_zones[zid];
      if (!z) continue;
      for (let start = Math.ceil(z.startPfn / nr) * nr; start + nr <= z.endPfn; start += nr) {
        if (k.pa.get_pageblock_migratetype(start) === MIGRATE.CMA) continue;
        let ok = true;
        for (let p = start; p < start + nr && ok; p += 1024) ok = k.pa.inPristine(p) || k.pa.isFreeBuddy(p);
        if (!ok) continue;
        for (let p = start; p < start + nr; p += 1024) {
          if (k.pa.inPristine(p)) carvePristine(k, p, 1024);
          else if (k.memmap.order(p) !== 10) {
            ok = false;
            break;
          } else k.pa.takeFreeBlock(p);
        }
        if (!ok) continue;
        k.memmap.makeFolio(start, order, PG.hugetlb);
        k.memmap.setRefcount(start, 1);
        return start;
      }
    }
  return NIL;
}

/** Take an order-10 block out of a zone's pristine range (splitting the range). */
function carvePristine(k: Kernel, pfn: number, nr: number): void {
  for (const z of k.pa.zones) {
    if (!z || !z.contains(pfn)) continue;
    for (let i = 0; i < z.pristine.length; i++) {
      const r = z.pristine[i];
      if (pfn < r.next || pfn >= r.end) continue;
      const tail = { next: pfn + nr, end: r.end, mt: r.mt };
      if (pfn === r.next) r.next = pfn + nr;
      else {
        r.end = pfn;
        if (tail.next < tail.end) z.pristine.splice(i + 1, 0, tail);
      }
      z.freePages -= nr;
      if (r.mt === MIGRATE.CMA) z.freeCmaPages -= nr;
      return;
    }
  }
}

/** Boot-time pools: hugepages=N / vm.nr_hugepages (set_max_huge_pages()). */
export function hugetlb_boot(k: Kernel): void {
  const h2 = new HState(HPAGE_PMD_ORDER, k.config.hugetlbOvercommit2M);
  const h1 = new HState(HPAGE_PUD_ORDER, 0);
  k.hstates = [h2, h1];
  for (const [h, n] of [
    [h2, k.config.hugetlb2M],
    [h1, k.config.hugetlb1G],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const pfn = alloc_fresh_hugetlb_folio(k, h);
      if (pfn === NIL) break;
      h.nrHugePages++;
      h.freeList.push(pfn);
    }
    // the kernel hands out the pool newest-first; keep lowest pfn first for readable traces
    h.freeList.reverse();
  }
}

/** folio_is_longterm_pinnable() for a pool folio (CMA/ISOLATE pageblock or ZONE_MOVABLE → no). */
export function hugetlbFolioPinnable(k: Kernel, pfn: number): boolean {
  if (!k.config.kconfig.MIGRATION) return true;
  const mt = k.pa.get_pageblock_migratetype(pfn);
  if (k.config.kconfig.CMA && (mt === MIGRATE.CMA || mt === MIGRATE.ISOLATE)) return false;
  return k.pa.zoneIdOf(pfn) !== ZONE.MOVABLE;
}

/**
 * dequeue_hugetlb_folio_node_exact(): take a free pool folio; with
 * PF_MEMALLOC_PIN set (a long-term pin is faulting) skip folios that are
 * not longterm-pinnable.
 */
export function dequeue_hugetlb_folio(k: Kernel, h: HState, nid = NUMA_NO_NODE, thisNode = false): number {
  const pin = k.current !== null && (k.current.flags & PF_MEMALLOC_PIN) !== 0;
  // dequeue_hugetlb_folio_nodemask(): the preferred node's free list first,
  // then the others along the zonelist unless __GFP_THISNODE
  for (const pass of nid === NUMA_NO_NODE ? [false] : thisNode ? [true] : [true, false]) {
    for (let i = h.freeList.length - 1; i >= 0; i--) {
      const pfn = h.freeList[i];
      if (pin && !hugetlbFolioPinnable(k, pfn)) continue;
      if (pass && k.pa.page_to_nid(pfn) !== nid) continue;
      h.freeList.splice(i, 1);
      return pfn;
    }
  }
  return NIL;
}

/**
 * alloc_hugetlb_folio(): a folio for a fault or for a copy. With a
 * reservation the pool must have it; without, the free pool beyond the
 * reservations is used, then a surplus page if nr_overcommit_hugepages allows.
 * Returns the folio with refcount 1, or NIL (the fault becomes SIGBUS / fork -ENOMEM).
 */
export function alloc_hugetlb_folio(k: Kernel, h: HState, useReserve: boolean): number {
  let pfn = NIL;
  if (useReserve || h.freeHugePages - h.resvHugePages > 0) {
    pfn = dequeue_hugetlb_folio(k, h);
    if (pfn !== NIL && useReserve) h.resvHugePages--;
  }
  if (pfn === NIL && h.surplusHugePages < h.nrOvercommit) {
    // alloc_surplus_hugetlb_folio()
    pfn = alloc_fresh_hugetlb_folio(k, h);
    if (pfn !== NIL) {
      h.nrHugePages++;
      h.surplusHugePages++;
    }
  }
  if (pfn === NIL) return NIL;
  k.memmap.makeFolio(pfn, h.order, PG.hugetlb);
  k.memmap.setRefcount(pfn, 1);
  return pfn;
}

/** free_huge_folio(): back to the pool (or to the buddy allocator if surplus). */
export function free_huge_folio(k: Kernel, folio: number): void {
  const h = k.hstates.find((x) => x.order === k.memmap.order(folio));
  if (!h) return;
  k.memmap.makeFolio(folio, h.order, PG.hugetlb);
  if (h.surplusHugePages > 0) {
    h.surplusHugePages--;
    h.nrHugePages--;
    if (h.order <= 10) k.pa.__free_pages(folio, h.order);
    else for (let p = folio; p < folio + (1 << h.order); p += 1024) k.pa.__free_pages(p, 10);
    return;
  }
  h.freeList.push(folio);
}

/**
 * hugetlb_reserve_pages()/hugetlb_acct_memory(): reserve n pages at mmap time.
 * Fails (-ENOMEM at mmap) when the pool cannot cover it.
 */
export function hugetlb_acct_memory(h: HState, delta: number): boolean {
  if (delta > 0) {
    const canSurplus = h.nrOvercommit - h.surplusHugePages;
    if (h.freeHugePages - h.resvHugePages + Math.max(0, canSurplus) < delta) return false;
  }
  h.resvHugePages += delta;
  return true;
}
