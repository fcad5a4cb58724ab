/**
 * The buddy allocator: zones, pageblock migratetypes, free lists of orders
 * 0..MAX_PAGE_ORDER per migratetype, fallbacks between migratetypes, and the
 * CMA balancing rule (mm/page_alloc.c).
 *
 * Laziness: at boot every page is free. The kernel puts all of it on the
 * order-10 free lists in ascending pfn order (memblock_free_pages() →
 * __free_pages_ok(FPI_TO_TAIL)). The model keeps the untouched tail of each
 * zone's ranges as a "pristine" cursor and moves one order-10 block onto the
 * free list whenever that list runs empty, which yields the same blocks in
 * the same order without touching memory that is never allocated.
 *
 * NUMA: memory is split into nodes (struct pglist_data), each with its own
 * zones. An allocation walks the zonelist of its preferred node — the
 * allocating task's node, numa_node_id() — which is node-ordered: every
 * zone of the preferred node from the highest allowed down, then the next
 * node's (build_zonelists()). __GFP_THISNODE stops after the first node.
 * With equal distances the kernel's find_next_best_node() breaks ties by
 * node_load; the model takes the next node up, wrapping (exact for 2 nodes).
 *
 * Not modelled: per-cpu page lists, watermarks and reclaim, ALLOC_NOFRAGMENT's
 * first pass, page shuffling. Allocation failure returns NIL at once.
 */
import {
  __GFP_DMA32,
  __GFP_HIGHMEM,
  __GFP_MOVABLE,
  __GFP_RECLAIMABLE,
  __GFP_THISNODE,
  __GFP_ZERO,
} from "../include/gfp.js";
import {
  FALLBACKS,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MIGRATE,
  MIGRATE_PCPTYPES,
  MIGRATE_TYPES,
  type MigrateType,
  NR_PAGE_ORDERS,
  NUMA_NO_NODE,
  pageblock_nr_pages,
  pageblock_order,
  ZONE,
  ZONE_NAMES,
  type ZoneId,
} from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { type MemMap, NIL } from "./memmap.js";

interface PristineRange {
  next: number;
  end: number;
  mt: MigrateType;
}

export class Zone {
  readonly freeHead = new Uint32Array(NR_PAGE_ORDERS * MIGRATE_TYPES).fill(NIL);
  readonly freeTail = new Uint32Array(NR_PAGE_ORDERS * MIGRATE_TYPES).fill(NIL);
  readonly nrFree = new Float64Array(NR_PAGE_ORDERS * MIGRATE_TYPES);
  /** NR_FREE_PAGES */
  freePages = 0;
  /** NR_FREE_CMA_PAGES */
  freeCmaPages = 0;
  /** pages handed to the buddy allocator at boot (managed_pages) */
  managedPages = 0;
  readonly pristine: PristineRange[] = [];
  constructor(
    readonly id: ZoneId,
    readonly startPfn: number,
    readonly endPfn: number,
    /** zone_to_nid() */
    readonly nid = 0,
  ) {}
  get name(): string {
    return ZONE_NAMES[this.id];
  }
  get spannedPages(): number {
    return this.endPfn - this.startPfn;
  }
  contains(pfn: number): boolean {
    return pfn >= this.startPfn && pfn < this.endPfn;
  }
}

/** struct pglist_data: one NUMA node's span and zones (NODE_DATA(nid)). */
export class PgData {
  /** node_zones[], indexed by zone type */
  readonly node_zones: Zone[] = [];
  constructor(
    readonly node_id: number,
    readonly node_start_pfn: number,
    readonly node_end_pfn: number,
  ) {}
  get node_spanned_pages(): number {
    return this.node_end_pfn - this.node_start_pfn;
  }
}

/** alloc_flags the model uses (mm/internal.h: ALLOC_CMA) */
export const ALLOC_CMA = 0x80;

export interface PageAllocOptions {
  cmaEnabled: boolean;
  /** current_gfp_context(): PF_MEMALLOC_PIN strips __GFP_MOVABLE */
  memallocPin: () => boolean;
  /** numa_node_id(): the node of the CPU the allocating task runs on (default node 0) */
  localNode?: () => number;
}

export class PageAlloc {
  /** every zone of every node, at nid * MAX_NR_ZONES + zone type: node 0's at their type */
  readonly zones: Zone[] = [];
  /** the nodes, by node id (node_data[]); all the same size */
  readonly nodes: PgData[] = [];
  private nodePages = Infinity;
  /** one migratetype per pageblock (pageblock-flags) */
  readonly pageblockMt: Uint8Array;

  constructor(
    readonly memmap: MemMap,
    private readonly opts: PageAllocOptions,
  ) {
    this.pageblockMt = new Uint8Array(Math.ceil(memmap.nrPages / pageblock_nr_pages)).fill(MIGRATE.MOVABLE);
  }

  // --- boot ------------------------------------------------------------------
  /** Add the next node, pfns [startPfn, endPfn): nodes come in order and are all the same size. */
  addNode(startPfn: number, endPfn: number): PgData {
    const pgdat = new PgData(this.nodes.length, startPfn, endPfn);
    this.nodes.push(pgdat);
    this.nodePages = endPfn - startPfn;
    return pgdat;
  }

  addZone(id: ZoneId, startPfn: number, endPfn: number, nid = 0): Zone {
    const z = new Zone(id, startPfn, endPfn, nid);
    this.zones[nid * MAX_NR_ZONES + id] = z;
    if (this.nodes[nid]) this.nodes[nid].node_zones[id] = z;
    return z;
  }

  /** page_to_nid(): nodes are equal, contiguous pfn ranges, so the node is a division. */
  page_to_nid(pfn: number): number {
    if (this.nodes.length <= 1) return 0;
    return Math.min(this.nodes.length - 1, Math.floor(pfn / this.nodePages));
  }

  /** node_state(nid, N_MEMORY): the node exists and has memory */
  nodeHasMemory(nid: number): boolean {
    return Number.isInteger(nid) && nid >= 0 && nid < this.nodes.length;
  }

  /**
   * Give [start, end) of a zone to the allocator as free memory of migratetype mt
   * (memmap_init_range() + memblock_free_pages(); init_cma_reserved_pageblock()).
   * Both ends must be pageblock aligned.
   */
  freeBootRange(z: Zone, start: number, end: number, mt: MigrateType): void {
    for (let pb = start >>> pageblock_order; pb < end >>> pageblock_order; pb++) this.pageblockMt[pb] = mt;
    const size = 1 << MAX_PAGE_ORDER;
    const alignedStart = Math.min(end, Math.ceil(start / size) * size);
    const alignedEnd = Math.max(alignedStart, Math.floor(end / size) * size);
    this.freeBootPieces(z, start, alignedStart, mt);
    if (alignedEnd > alignedStart) z.pristine.push({ next: alignedStart, end: alignedEnd, mt });
    this.freeBootPieces(z, alignedEnd, end, mt);
    const n = end - start;
    z.managedPages += n;
    z.freePages += n;
    if (mt === MIGRATE.CMA) z.freeCmaPages += n;
  }

  /** Unaligned edges go straight onto the free lists, largest aligned blocks first. */
  private freeBootPieces(z: Zone, start: number, end: number, mt: MigrateType): void {
    let p = start;
    while (p < end) {
      let order = MAX_PAGE_ORDER;
      while (order > 0 && ((p & ((1 << order) - 1)) !== 0 || p + (1 << order) > end)) order--;
      this.markFree(p, order);
      this.listAdd(z, p, order, mt, true);
      p += 1 << order;
    }
  }

  // --- free lists (page->buddy_list) ----------------------------------------------
  private slot(order: number, mt: number): number {
    return order * MIGRATE_TYPES + mt;
  }

  private markFree(pfn: number, order: number): void {
    this.memmap.setFlagsWord(pfn, PG.buddy | (order << 24));
    this.memmap.setRefcount(pfn, 0);
    this.memmap.setMapcount(pfn, 0);
  }

  private listAdd(z: Zone, pfn: number, order: number, mt: number, tail: boolean): void {
    const s = this.slot(order, mt);
    const mm = this.memmap;
    if (z.freeHead[s] === NIL) {
      z.freeHead[s] = z.freeTail[s] = pfn;
      mm.setMapping(pfn, NIL);
      mm.setIndex(pfn, NIL);
    } else if (tail) {
      const t = z.freeTail[s];
      mm.setMapping(t, pfn);
      mm.setIndex(pfn, t);
      mm.setMapping(pfn, NIL);
      z.freeTail[s] = pfn;
    } else {
      const h = z.freeHead[s];
      mm.setIndex(h, pfn);
      mm.setMapping(pfn, h);
      mm.setIndex(pfn, NIL);
      z.freeHead[s] = pfn;
    }
    z.nrFree[s] += 1;
  }

  private listDel(z: Zone, pfn: number, order: number, mt: number): void {
    const s = this.slot(order, mt);
    const mm = this.memmap;
    const next = mm.mapping(pfn);
    const prev = mm.index(pfn);
    if (prev === NIL) z.freeHead[s] = next;
    else mm.setMapping(prev, next);
    if (next === NIL) z.freeTail[s] = prev;
    else mm.setIndex(next, prev);
    z.nrFree[s] -= 1;
    mm.setMapping(pfn, 0);
    mm.setIndex(pfn, 0);
  }

  /** Keep a pristine block at the tail of the order-10 list while pristine memory remains. */
  private refillPristine(z: Zone, mt: number): void {
    const s = this.slot(MAX_PAGE_ORDER, mt);
    if (z.freeHead[s] !== NIL) return;
    for (const r of z.pristine) {
      if (r.mt !== mt || r.next >= r.end) continue;
      const pfn = r.next;
      r.next += 1 << MAX_PAGE_ORDER;
      this.markFree(pfn, MAX_PAGE_ORDER);
      this.listAdd(z, pfn, MAX_PAGE_ORDER, mt, true);
      return;
    }
  }

  /** free_area_empty() */
  freeAreaEmpty(z: Zone, order: number, mt: number): boolean {
    if (order === MAX_PAGE_ORDER) this.refillPristine(z, mt);
    return z.freeHead[this.slot(order, mt)] === NIL;
  }

  private accountFree(z: Zone, nr: number, mt: number): void {
    z.freePages += nr;
    if (mt === MIGRATE.CMA) z.freeCmaPages += nr;
  }

  /** del_page_from_free_list() */
  private takeFree(z: Zone, pfn: number, order: number, mt: number): void {
    this.listDel(z, pfn, order, mt);
    this.memmap.clear(pfn, PG.buddy);
    this.accountFree(z, -(1 << order), mt);
  }

  /** expand(): split a block, returning the upper halves to the free lists (at the head). */
  private expand(z: Zone, pfn: number, low: number, high: number, mt: number): void {
    let size = 1 << high;
    while (high > low) {
      high--;
      size >>>= 1;
      this.markFree(pfn + size, high);
      this.listAdd(z, pfn + size, high, mt, false);
      this.accountFree(z, size, mt);
    }
  }

  /** __rmqueue_smallest() */
  private rmqueueSmallest(z: Zone, order: number, mt: number): number {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      if (this.freeAreaEmpty(z, o, mt)) continue;
      const pfn = z.freeHead[this.slot(o, mt)];
      this.takeFree(z, pfn, o, mt);
      this.expand(z, pfn, order, o, mt);
      return pfn;
    }
    return NIL;
  }

  /** find_suitable_fallback() */
  private findSuitableFallback(z: Zone, order: number, mt: number, claimable: boolean): number {
    if (claimable && !shouldTryClaimBlock(order, mt)) return -2;
    for (let i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
      const fmt = FALLBACKS[mt][i];
      if (!this.freeAreaEmpty(z, order, fmt)) return fmt;
    }
    return -1;
  }

  /** change_pageblock_range() / set_pageblock_migratetype() */
  setPageblockMt(pfn: number, nrPages: number, mt: MigrateType): void {
    const first = pfn >>> pageblock_order;
    const last = (pfn + Math.max(nrPages, 1) - 1) >>> pageblock_order;
    for (let pb = first; pb <= last; pb++) this.pageblockMt[pb] = mt;
  }

  get_pageblock_migratetype(pfn: number): MigrateType {
    return this.pageblockMt[pfn >>> pageblock_order] as MigrateType;
  }

  /**
   * __move_freepages_block(): move every free block inside the pageblock from
   * the old type's lists to the new type's. Returns the pages moved.
   */
  moveFreepagesBlock(z: Zone, startPfn: number, oldMt: number, newMt: number): number {
    let moved = 0;
    const end = startPfn + pageblock_nr_pages;
    for (let pfn = startPfn; pfn < end;) {
      if (this.memmap.isPristine(pfn) || !this.memmap.test(pfn, PG.buddy)) {
        pfn++;
        continue;
      }
      const order = this.memmap.order(pfn);
      this.listDel(z, pfn, order, oldMt);
      this.listAdd(z, pfn, order, newMt, false);
      this.accountFree(z, -(1 << order), oldMt);
      this.accountFree(z, 1 << order, newMt);
      moved += 1 << order;
      pfn += 1 << order;
    }
    return moved;
  }

  /** try_to_claim_block() */
  private tryToClaimBlock(
    z: Zone,
    pfn: number,
    currentOrder: number,
    order: number,
    startMt: MigrateType,
    blockMt: MigrateType,
  ): number {
    if (currentOrder >= pageblock_order) {
      this.takeFree(z, pfn, currentOrder, blockMt);
      this.setPageblockMt(pfn, 1 << currentOrder, startMt);
      this.expand(z, pfn, order, currentOrder, startMt);
      return pfn;
    }
    // prep_move_freepages_block(): count free and movable (on-LRU) pages of the block.
    const start = pfn & ~(pageblock_nr_pages - 1);
    if (start < z.startPfn || start + pageblock_nr_pages > z.endPfn) return NIL;
    let freePages = 0;
    let movablePages = 0;
    for (let p = start; p < start + pageblock_nr_pages;) {
      if (this.memmap.isPristine(p)) {
        p++;
        continue;
      }
      const f = this.memmap.flags(p);
      if (f & PG.buddy) {
        const o = this.memmap.order(p);
        freePages += 1 << o;
        p += 1 << o;
        continue;
      }
      if (f & PG.lru) movablePages++;
      p++;
    }
    let alikePages: number;
    if (startMt === MIGRATE.MOVABLE) alikePages = movablePages;
    else if (blockMt === MIGRATE.MOVABLE) alikePages = pageblock_nr_pages - (freePages + movablePages);
    else alikePages = 0;
    if (freePages + alikePages >= 1 << (pageblock_order - 1)) {
      this.moveFreepagesBlock(z, start, blockMt, startMt);
      this.setPageblockMt(start, pageblock_nr_pages, startMt);
      return this.rmqueueSmallest(z, order, startMt);
    }
    return NIL;
  }

  /** __rmqueue_claim() */
  private rmqueueClaim(z: Zone, order: number, startMt: MigrateType): number {
    for (let o = MAX_PAGE_ORDER; o >= order; o--) {
      const fmt = this.findSuitableFallback(z, o, startMt, true);
      if (fmt === -1) continue;
      if (fmt === -2) break;
      const pfn = z.freeHead[this.slot(o, fmt)];
      const got = this.tryToClaimBlock(z, pfn, o, order, startMt, fmt as MigrateType);
      if (got !== NIL) return got;
    }
    return NIL;
  }

  /** __rmqueue_steal() */
  private rmqueueSteal(z: Zone, order: number, startMt: MigrateType): number {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const fmt = this.findSuitableFallback(z, o, startMt, false);
      if (fmt < 0) continue;
      const pfn = z.freeHead[this.slot(o, fmt)];
      this.takeFree(z, pfn, o, fmt);
      this.expand(z, pfn, order, o, fmt);
      return pfn;
    }
    return NIL;
  }

  /** __rmqueue() */
  private rmqueue(z: Zone, order: number, mt: MigrateType, allocFlags: number): number {
    let pfn: number;
    // Balance movable allocations between regular and CMA areas by allocating
    // from CMA when over half of the zone's free memory is in the CMA area.
    if (this.opts.cmaEnabled && allocFlags & ALLOC_CMA && z.freeCmaPages > z.freePages / 2) {
      pfn = this.rmqueueSmallest(z, order, MIGRATE.CMA);
      if (pfn !== NIL) return pfn;
    }
    pfn = this.rmqueueSmallest(z, order, mt);
    if (pfn !== NIL) return pfn;
    if (this.opts.cmaEnabled && allocFlags & ALLOC_CMA) {
      pfn = this.rmqueueSmallest(z, order, MIGRATE.CMA);
      if (pfn !== NIL) return pfn;
    }
    pfn = this.rmqueueClaim(z, order, mt);
    if (pfn !== NIL) return pfn;
    return this.rmqueueSteal(z, order, mt);
  }

  // --- the allocation API ------------------------------------------------------
  /** include/linux/sched/mm.h: current_gfp_context() */
  currentGfpContext(gfp: number): number {
    return this.opts.memallocPin() ? gfp & ~__GFP_MOVABLE : gfp;
  }

  /** gfp_zone(): the highest zone the allocation may use */
  static gfpZone(gfp: number): ZoneId {
    if (gfp & __GFP_DMA32) return ZONE.DMA32;
    if (gfp & __GFP_HIGHMEM && gfp & __GFP_MOVABLE) return ZONE.MOVABLE;
    return ZONE.NORMAL;
  }

  /** gfp_migratetype() */
  static gfpMigratetype(gfp: number): MigrateType {
    if (gfp & __GFP_MOVABLE) return MIGRATE.MOVABLE;
    if (gfp & __GFP_RECLAIMABLE) return MIGRATE.RECLAIMABLE;
    return MIGRATE.UNMOVABLE;
  }

  /**
   * __alloc_pages(): a block of 2^order pages, head pfn or NIL. The zonelist
   * of the preferred node (`nid`, else numa_node_id()) is walked: each node's
   * zones from the highest allowed down, nodes in fallback order, only the
   * preferred node for __GFP_THISNODE. Pages come back with
   * refcount 1 on the head and order stamped on every page (prep_new_page(),
   * prep_compound_page() for order > 0). Content is zeroed for __GFP_ZERO;
   * otherwise it is whatever the page last held.
   */
  alloc_pages(gfp: number, order: number, extraFlags = 0, nid = NUMA_NO_NODE): number {
    gfp = this.currentGfpContext(gfp);
    const mt = PageAlloc.gfpMigratetype(gfp);
    const allocFlags = mt === MIGRATE.MOVABLE ? ALLOC_CMA : 0;
    const nr = this.nodes.length || 1;
    const preferred = nid === NUMA_NO_NODE ? (this.opts.localNode?.() ?? 0) : nid;
    const tries = gfp & __GFP_THISNODE ? 1 : nr;
    for (let i = 0; i < tries; i++) {
      const base = ((preferred + i) % nr) * MAX_NR_ZONES;
      for (let zid = PageAlloc.gfpZone(gfp); zid >= 0; zid--) {
        const z = this.zones[base + zid];
        if (!z || z.managedPages === 0) continue;
        const pfn = this.rmqueue(z, order, mt, allocFlags);
        if (pfn === NIL) continue;
        this.prepNewPage(pfn, order, gfp, extraFlags);
        return pfn;
      }
    }
    return NIL;
  }

  /** Allocate exactly [pfn, pfn + 2^order) if it is one free buddy block or part of one. */
  private prepNewPage(pfn: number, order: number, gfp: number, extraFlags: number): void {
    this.memmap.makeFolio(pfn, order, extraFlags);
    this.memmap.setRefcount(pfn, 1);
    if (gfp & __GFP_ZERO) for (let p = pfn; p < pfn + (1 << order); p++) this.memmap.setContent(p, 0);
  }

  zoneOf(pfn: number): Zone {
    const base = this.page_to_nid(pfn) * MAX_NR_ZONES;
    for (let i = MAX_NR_ZONES - 1; i >= 0; i--) {
      const z = this.zones[base + i];
      if (z && z.contains(pfn)) return z;
    }
    throw new Error(`pfn ${pfn} is in no zone`);
  }

  /** zone_idx(page_zone(page)) */
  zoneIdOf(pfn: number): ZoneId {
    return this.zoneOf(pfn).id;
  }

  /**
   * __free_pages() → __free_one_page(): return 2^order pages at pfn to the
   * buddy lists, merging with free buddies. Blocks of CMA or ISOLATE pageblocks
   * only merge with their own kind at pageblock order and above.
   */
  __free_pages(pfn: number, order: number): void {
    const z = this.zoneOf(pfn);
    const nr = 1 << order;
    for (let p = pfn; p < pfn + nr; p++) {
      this.memmap.setFlagsWord(p, 0);
      this.memmap.setRefcount(p, 0);
      this.memmap.setMapcount(p, 0);
      this.memmap.setMapping(p, 0);
      this.memmap.setIndex(p, 0);
    }
    const mt = this.get_pageblock_migratetype(pfn);
    this.freeOnePage(z, pfn, order, mt);
  }

  private freeOnePage(z: Zone, pfn: number, order: number, mt: MigrateType): void {
    this.accountFree(z, 1 << order, mt);
    while (order < MAX_PAGE_ORDER) {
      const buddy = pfn ^ (1 << order);
      if (!z.contains(buddy) || this.memmap.isPristine(buddy)) break;
      const bf = this.memmap.flags(buddy);
      if (!(bf & PG.buddy) || this.memmap.order(buddy) !== order) break;
      const buddyMt = this.get_pageblock_migratetype(buddy);
      if (buddyMt !== mt) {
        if (order < pageblock_order) break;
        if (!isMergeable(buddyMt) || !isMergeable(mt)) break;
      }
      // An ISOLATE pageblock's free pages stay on the ISOLATE list (mm/page_isolation.c).
      this.listDel(z, buddy, order, buddyMt);
      this.accountFree(z, -(1 << order), buddyMt);
      this.accountFree(z, 1 << order, mt);
      this.memmap.setFlagsWord(buddy, 0);
      pfn = Math.min(pfn, buddy);
      order++;
    }
    this.markFree(pfn, order);
    this.listAdd(z, pfn, order, mt, false);
  }

  /** True if pfn is the head of a free buddy block (PageBuddy()). */
  isFreeBuddy(pfn: number): boolean {
    return !this.memmap.isPristine(pfn) && this.memmap.test(pfn, PG.buddy);
  }

  /**
   * Free pages of a zone per order and migratetype, like /proc/pagetypeinfo.
   * Pristine memory counts as order-10 blocks.
   */
  pagetypeinfo(z: Zone): number[][] {
    const out: number[][] = [];
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      const row: number[] = [];
      for (let o = 0; o < NR_PAGE_ORDERS; o++) row.push(z.nrFree[this.slot(o, mt)]);
      for (const r of z.pristine) if (r.mt === mt) row[MAX_PAGE_ORDER] += (r.end - r.next) >>> MAX_PAGE_ORDER;
      out.push(row);
    }
    return out;
  }

  /** Every free block (head, order) on a list, for invariant checks. */
  *freeBlocks(z: Zone): Generator<[number, number, number]> {
    for (let o = 0; o < NR_PAGE_ORDERS; o++)
      for (let mt = 0; mt < MIGRATE_TYPES; mt++)
        for (let p = z.freeHead[this.slot(o, mt)]; p !== NIL; p = this.memmap.mapping(p)) yield [p, o, mt];
  }

  /** True if pfn lies in memory the allocator has never handed out (pristine). */
  inPristine(pfn: number): boolean {
    for (const z of this.zones) {
      if (!z || !z.contains(pfn)) continue;
      for (const r of z.pristine) if (pfn >= r.next && pfn < r.end) return true;
    }
    return false;
  }

  /**
   * Move the never-touched order-10 block containing pfn from the pristine
   * range onto the free list (at the tail, where boot would have put it), so
   * that callers working on specific pfns (isolation, contiguous allocation)
   * see ordinary free blocks.
   */
  materialize(pfn: number): void {
    const z = this.zoneOf(pfn);
    for (let i = 0; i < z.pristine.length; i++) {
      const r = z.pristine[i];
      if (pfn < r.next || pfn >= r.end) continue;
      const size = 1 << MAX_PAGE_ORDER;
      const block = r.next + Math.floor((pfn - r.next) / size) * size;
      const tail = { next: block + size, end: r.end, mt: r.mt };
      if (block === r.next) r.next = block + size;
      else {
        r.end = block;
        if (tail.next < tail.end) z.pristine.splice(i + 1, 0, tail);
      }
      this.markFree(block, MAX_PAGE_ORDER);
      this.listAdd(z, block, MAX_PAGE_ORDER, r.mt, true);
      return;
    }
  }

  /** Put a free block on its pageblock's list without merging (splitting a block by hand). */
  __free_pages_nomerge(pfn: number, order: number): void {
    const z = this.zoneOf(pfn);
    const mt = this.get_pageblock_migratetype(pfn);
    this.markFree(pfn, order);
    this.listAdd(z, pfn, order, mt, false);
    this.accountFree(z, 1 << order, mt);
  }

  /** Allocate a specific free block (used by alloc_contig_range-style callers). */
  takeFreeBlock(pfn: number): number {
    const z = this.zoneOf(pfn);
    const order = this.memmap.order(pfn);
    this.takeFree(z, pfn, order, this.get_pageblock_migratetype(pfn));
    return order;
  }
}

/** should_try_claim_block() */
function shouldTryClaimBlock(order: number, startMt: number): boolean {
  if (order >= pageblock_order) return true;
  if (order >= pageblock_order >> 1) return true;
  if (startMt === MIGRATE.RECLAIMABLE || startMt === MIGRATE.UNMOVABLE) return true;
  return false;
}

/** migratetype_is_mergeable() */
function isMergeable(mt: number): boolean {
  return mt < MIGRATE_PCPTYPES;
}

export { pageblock_order };
