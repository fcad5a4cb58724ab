/**
 * GUP reference and pin accounting (mm/gup.c, include/linux/mm.h,
 * mm/internal.h): "grab" and "put" in mm/gup.c's sense.
 *
 * Vocabulary (mm/gup.c: try_grab_folio()): to *grab* a folio is to look at
 * the flags and either take FOLL_GET references (+1 refcount per page) or
 * FOLL_PIN pins — GUP_PIN_COUNTING_BIAS (1024) refcount per pin on a small
 * folio, +1 refcount and +1 _pincount per pin on a large one — or, with
 * neither flag, nothing at all. Pins are counted per returned page
 * ([ACCT-4]) and show up in nr_foll_pin_acquired / nr_foll_pin_released
 * ([ACCT-7]). The shared zero page is never pinned ([ZERO-1]); the huge zero
 * folio is an ordinary large folio here ([ZERO-2]).
 *
 * A page array (`GupPages`) holds pfns; a cleared entry (the kernel's NULL
 * in pofs_clear_entry()) is PAGE_NULL.
 */
import { ENOMEM } from "../include/errno.js";
import { FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../include/foll_flags.js";
import { MIGRATE, ZONE } from "../include/mmzone.js";
import { PG, PG_ORDER_MASK, PG_ORDER_SHIFT } from "../include/page_flags.js";
import { is_cow_mapping } from "../include/vm_flags.js";
import { PinlabError } from "../errors.js";
import type { Kernel } from "../kernel.js";
import { folio_is_fsdax } from "../fs/dax.js";
import { folio_put_refs, GUP_PIN_COUNTING_BIAS, PageAnonExclusive } from "./folio.js";
import { type MemChunk, MEMMAP_CHUNK_SHIFT } from "./memmap.js";
import { fill_consecutive, PageArray } from "./page_array.js";
import type { VmArea } from "./mm_types.js";
import { folio_mark_dirty } from "./page_writeback.js";

/**
 * The page array GUP fills: one pfn per page. Any Int32Array or number[]
 * will do; a PageArray (page_array.ts) records the subpages of a huge
 * mapping as one run, which pin and unpin handle once per folio. Kernel code
 * reads entries with gup_page() and writes them with gup_set_page() or
 * fill_subpages().
 */
export type GupPages = PageArray | Int32Array | number[];

/** A cleared page-array entry (NULL). */
export const PAGE_NULL = -1;

const CHUNK_MASK = (1 << MEMMAP_CHUNK_SHIFT) - 1;
/**
 * pages[base + j] = page + j for j < n: the consecutive subpages of a huge
 * mapping (the `pages[i + j] = subpage` loops of __get_user_pages() and
 * gup_fast_pmd_leaf()), recorded as one run in a PageArray and as native
 * copies in an Int32Array.
 */
export function fill_subpages(pages: GupPages, base: number, page: number, n: number): void {
  if (pages instanceof PageArray) pages.setRun(base, page, n);
  else if (pages instanceof Int32Array) fill_consecutive(pages, base, page, n);
  else for (let j = 0; j < n; j++) pages[base + j] = page + j;
}

/** pages[i] */
export function gup_page(pages: GupPages, i: number): number {
  return pages instanceof PageArray ? pages.get(i) : pages[i];
}

/** pages[i] = page (pofs_clear_entry() and the like). */
export function gup_set_page(pages: GupPages, i: number, page: number): void {
  if (pages instanceof PageArray) pages.setPage(i, page);
  else pages[i] = page;
}

const WHERE_GRAB = "mm/gup.c: try_grab_folio()";
const WHERE_GET = "mm/gup.c: try_get_folio()";
const WHERE_PUT = "mm/gup.c: gup_put_folio()";

/**
 * is_zero_pfn() / is_zero_page(): the shared 4 KiB zero page only. The
 * kernel's is_zero_folio() is is_zero_page(&folio->page), so the huge zero
 * folio is *not* a zero folio for GUP accounting ([ZERO-2], [EXP-4]); note
 * that folio.ts's is_zero_folio() also answers true for the huge zero folio
 * and must not be used for pin accounting.
 */
export function is_zero_pfn(k: Kernel, pfn: number): boolean {
  return pfn === k.zeroPfn;
}

/** folio_has_pincount() on 64-bit: every large folio (include/linux/mm.h). */
export function folio_has_pincount(k: Kernel, folio: number): boolean {
  return k.memmap.order(folio) > 0;
}

/** PageAnon(): the folio's PAGE_MAPPING_ANON bit. */
export function PageAnon(k: Kernel, page: number): boolean {
  return k.memmap.test(k.memmap.head(page), PG.anon);
}

/**
 * include/linux/mm.h: folio_is_longterm_pinnable(). With CONFIG_MIGRATION:
 * not in a CMA/ISOLATE pageblock (only with CONFIG_CMA), the zero page yes,
 * not device-coherent (not modelled), not fsdax, not in ZONE_MOVABLE.
 * Without CONFIG_MIGRATION everything is pinnable ([LT-3] §8.2).
 */
export function folio_is_longterm_pinnable(k: Kernel, folio: number): boolean {
  const kc = k.config.kconfig;
  if (!kc.MIGRATION) return true;
  if (kc.CMA) {
    const mt = k.pa.get_pageblock_migratetype(folio);
    if (mt === MIGRATE.CMA || mt === MIGRATE.ISOLATE) return false;
  }
  if (folio === k.zeroPfn) return true;
  if (!(k.memmap.flags(folio) & PG.anon) && folio_is_fsdax(k, folio)) return false;
  const zm = k.pa.zones[ZONE.MOVABLE];
  return !(zm !== undefined && folio >= zm.startPfn && folio < zm.endPfn);
}

/**
 * mm/internal.h: gup_must_unshare(). Only for a page mapped read-only and a
 * request that pins without FOLL_WRITE ([UNSH-1]): an anonymous page must
 * be exclusive ([UNSH-2]); a non-anonymous page (page cache, zero page,
 * huge zero folio) must be unshared only for FOLL_LONGTERM, always when the
 * VMA is unknown (GUP-fast: fall back) and otherwise in COW mappings
 * ([UNSH-3]).
 */
export function gup_must_unshare(k: Kernel, vma: VmArea | null, flags: number, page: number): boolean {
  if ((flags & (FOLL_WRITE | FOLL_PIN)) !== FOLL_PIN) return false;
  if (!PageAnon(k, page)) {
    if (!(flags & FOLL_LONGTERM)) return false;
    if (!vma) return true;
    return is_cow_mapping(vma.vm_flags);
  }
  return !PageAnonExclusive(k, page);
}

// --- grabbing -------------------------------------------------------------------------

/**
 * try_get_folio(): the folio of page with `refs` references added, or -1.
 * Refuses (WARN) a negative refcount — a freed folio or one whose count
 * overflowed into the sign bit — and a zero one (freed, or frozen for
 * split/migration). The kernel does *not* refuse an addition that would
 * overflow (folio_ref_try_add() is atomic_add_unless(.., 0)): the count
 * wraps negative and the *next* grab refuses it; the model does the same
 * (Int32 arithmetic) rather than the "would overflow" check of older kernels.
 */
export function try_get_folio(k: Kernel, page: number, refs: number): number {
  const mm = k.memmap;
  const folio = mm.head(page);
  const c = mm.chunk(folio);
  const i = folio & CHUNK_MASK;
  const rc = c.refcount[i];
  if (rc < 0) {
    k.warn(WHERE_GET, `folio ${folio} has a negative refcount ${rc}`);
    return -1;
  }
  if (rc === 0) return -1;
  c.refcount[i] = rc + refs;
  return folio;
}

/**
 * try_grab_folio(): the slow-path grab of a folio the caller already holds
 * stable. Returns 0 or -errno ([GRAB-1], [GRAB-2], §9.3):
 *  - refcount ≤ 0 → WARN, -ENOMEM;
 *  - PCI P2PDMA folio without FOLL_PCI_P2PDMA → -EREMOTEIO (no P2PDMA memory
 *    in the model: never);
 *  - FOLL_GET: refcount += refs;
 *  - FOLL_PIN: nothing for the zero page; else [ACCT-1]/[ACCT-2] and
 *    nr_foll_pin_acquired += refs;
 *  - neither: nothing (populate / fault-in only).
 */
export function try_grab_folio(k: Kernel, folio: number, refs: number, flags: number): number {
  const mm = k.memmap;
  const c = mm.chunk(folio);
  const i = folio & CHUNK_MASK;
  if (c.refcount[i] <= 0) {
    k.warn(WHERE_GRAB, `folio ${folio} has refcount ${c.refcount[i]}`);
    return -ENOMEM;
  }
  if (flags & FOLL_GET) {
    c.refcount[i] += refs;
  } else if (flags & FOLL_PIN) {
    // Don't take a pin on the zero page: it's not going anywhere.
    if (folio === k.zeroPfn) return 0;
    if (c.flags[i] & PG_ORDER_MASK) {
      c.refcount[i] += refs;
      mm.addRefcount(folio + 1, refs); // _pincount lives in page[1]
    } else {
      c.refcount[i] += refs * GUP_PIN_COUNTING_BIAS;
    }
    k.vmstat.nr_foll_pin_acquired += refs;
  }
  return 0;
}

/**
 * try_grab_folio_fast(): the GUP-fast grab, from a page seen in a lockless
 * walk. Returns the folio or -1 (§11.4):
 *  - neither GET nor PIN → WARN, -1;
 *  - FOLL_GET → try_get_folio();
 *  - FOLL_PIN: the zero page is returned without counts; otherwise
 *    try_get_folio(), then [FAST-8] a FOLL_LONGTERM request on a folio that
 *    is not longterm-pinnable drops the refs *before* the pin is counted;
 *    then the refs become pins and nr_foll_pin_acquired += refs.
 */
export function try_grab_folio_fast(k: Kernel, page: number, refs: number, flags: number): number {
  if ((flags & (FOLL_GET | FOLL_PIN)) === 0) {
    k.warn("mm/gup.c: try_grab_folio_fast()", "neither FOLL_GET nor FOLL_PIN");
    return -1;
  }
  if (flags & FOLL_GET) return try_get_folio(k, page, refs);
  if (page === k.zeroPfn) return page;
  const folio = try_get_folio(k, page, refs);
  if (folio < 0) return -1;
  if (flags & FOLL_LONGTERM && !folio_is_longterm_pinnable(k, folio)) {
    folio_put_refs(k, folio, refs);
    return -1;
  }
  const mm = k.memmap;
  if (mm.order(folio) > 0) mm.addRefcount(folio + 1, refs);
  else mm.addRefcount(folio, refs * (GUP_PIN_COUNTING_BIAS - 1));
  k.vmstat.nr_foll_pin_acquired += refs;
  return folio;
}

/** Pin accounting state of a folio, for misuse detection ([UNPIN-3]). */
function pinsHeld(k: Kernel, folio: number): number {
  const mm = k.memmap;
  if (mm.order(folio) > 0) return mm.refcount(folio + 1);
  return Math.floor((mm.refcount(folio) >>> 0) / GUP_PIN_COUNTING_BIAS);
}

/**
 * gup_put_folio(): release `refs` references or pins. With FOLL_PIN: the
 * zero page is skipped; nr_foll_pin_released += refs; large folios lose
 * refs from _pincount and refcount, small ones refs × 1024 from refcount.
 * A folio freed by the last put goes back to the allocator or its pool.
 *
 * [UNPIN-3]: unpinning a folio that holds fewer pins than asked for (pages
 * obtained with FOLL_GET, or a double unpin) would corrupt the counts in the
 * kernel; the model reports it as a WARN ("unpin_unpinned") and changes
 * nothing.
 */
export function gup_put_folio(k: Kernel, folio: number, refs: number, flags: number): void {
  if (flags & FOLL_PIN) {
    if (folio === k.zeroPfn) return;
    const mm = k.memmap;
    const c = mm.chunk(folio);
    const i = folio & CHUNK_MASK;
    if (c.flags[i] & PG_ORDER_MASK) {
      const pc = mm.refcount(folio + 1);
      if (pc < refs) {
        reportUnpinUnpinned(k, folio, refs);
        return;
      }
      k.vmstat.nr_foll_pin_released += refs;
      mm.setRefcount(folio + 1, pc - refs);
    } else {
      if (c.refcount[i] >>> 0 < refs * GUP_PIN_COUNTING_BIAS) {
        reportUnpinUnpinned(k, folio, refs);
        return;
      }
      k.vmstat.nr_foll_pin_released += refs;
      refs *= GUP_PIN_COUNTING_BIAS;
    }
  }
  folio_put_refs(k, folio, refs);
}

function reportUnpinUnpinned(k: Kernel, folio: number, refs: number): void {
  k.warn(
    WHERE_PUT,
    `unpinning ${refs} pin(s) of folio ${folio} which holds only ${pinsHeld(k, folio)}: ` +
      "pages from get_user_pages*() must be released with put_page(), not unpin_user_page*()",
  );
  if (k.trace.enabled) k.trace.emit("unpin_unpinned", WHERE_PUT, { pfn: folio, refs });
}

// --- the release API ---------------------------------------------------------------------

/** The head pfn of a page-array entry. */
function entryFolio(k: Kernel, page: number): number {
  const c = k.memmap.chunk(page);
  const f = c.flags[page & CHUNK_MASK];
  if (!(f & PG.tail)) return page;
  const order = (f & PG_ORDER_MASK) >>> PG_ORDER_SHIFT;
  return page - (page & ((1 << order) - 1));
}

/**
 * gup_folio_next()'s scan: how many consecutive entries from i (below n)
 * belong to `folio`, the folio of pages[i]. For a large folio the test "is
 * this page part of this folio" is a pfn range check, as pofs_next_folio()
 * does; a PageArray answers it once per run.
 */
export function gup_folio_span(k: Kernel, pages: GupPages, i: number, n: number, folio: number): number {
  const end = folio + (1 << k.memmap.order(folio));
  if (pages instanceof PageArray) return pages.spanIn(i, n, folio, end);
  let j = i + 1;
  while (j < n) {
    const p = pages[j];
    if (p < folio || p >= end) break;
    j++;
  }
  return j - i;
}

function inRange(p: number, lo: number, hi: number): boolean {
  return p >= lo && p < hi;
}

/** IS_ERR_VALUE(npages): an errno passed as a count → WARN and do nothing ([UNPIN-1]). */
function badCount(k: Kernel, where: string, npages: number): boolean {
  if (npages >= 0) {
    if (!Number.isInteger(npages))
      throw new PinlabError(`${where}: npages must be an integer (got ${npages})`);
    return false;
  }
  if (npages >= -4095) {
    k.warn(`mm/gup.c: ${where}()`, `IS_ERR_VALUE(npages): ${npages} — a GUP error passed as a count`);
    return true;
  }
  throw new PinlabError(`${where}: npages ${npages} is negative`);
}

function checkArray(where: string, pages: GupPages, npages: number): void {
  if (pages.length < npages)
    throw new PinlabError(
      `${where}: the page array holds ${pages.length} entries, fewer than npages=${npages}`,
    );
}

/** unpin_user_page(): release one pin. */
export function unpin_user_page(k: Kernel, page: number): void {
  if (page < 0) throw new PinlabError("unpin_user_page: NULL page");
  gup_put_folio(k, entryFolio(k, page), 1, FOLL_PIN);
}

/** unpin_folio(): release one pin of a folio (memfd_pin_folios()). */
export function unpin_folio(k: Kernel, folio: number): void {
  if (folio < 0) throw new PinlabError("unpin_folio: NULL folio");
  gup_put_folio(k, folio, 1, FOLL_PIN);
}

/** unpin_user_folio(): release npages pins of one folio. */
export function unpin_user_folio(k: Kernel, folio: number, npages: number): void {
  if (folio < 0) throw new PinlabError("unpin_user_folio: NULL folio");
  gup_put_folio(k, folio, npages, FOLL_PIN);
}

/**
 * gup_put_folio(FOLL_PIN) of nr pins, inline, when the folio holds them and
 * keeps a reference afterwards (neither [UNPIN-3] nor a free): a small
 * folio loses nr × GUP_PIN_COUNTING_BIAS, a large one nr from refcount and
 * _pincount (page[1], in the same chunk). False, changing nothing, otherwise.
 */
function put_pins_inline(c: MemChunk, ci: number, large: boolean, nr: number): boolean {
  const rc = c.refcount[ci];
  if (large) {
    const pc = c.refcount[ci + 1];
    if (pc < nr || rc - nr <= 0) return false;
    c.refcount[ci + 1] = pc - nr;
    c.refcount[ci] = rc - nr;
    return true;
  }
  const bias = nr * GUP_PIN_COUNTING_BIAS;
  if (rc >>> 0 < bias || rc - bias <= 0) return false;
  c.refcount[ci] = rc - bias;
  return true;
}

/**
 * unpin_user_pages(): release every pin of a page array. WARNs and does
 * nothing when npages looks like a -errno ([UNPIN-1]); skips NULL entries;
 * runs of entries in one folio are released with one gup_put_folio().
 */
export function unpin_user_pages(k: Kernel, pages: GupPages, npages: number): void {
  if (badCount(k, "unpin_user_pages", npages)) return;
  checkArray("unpin_user_pages", pages, npages);
  let released: number;
  if (pages instanceof PageArray) {
    const dense = pages.plain();
    released = dense ? unpin_pfns(k, dense, npages) : unpin_runs(k, pages, npages);
  } else {
    released = unpin_pfns(k, pages, npages);
  }
  if (released) k.vmstat.nr_foll_pin_released += released;
}

/** unpin_user_pages() of a PageArray with runs: gup_folio_next() answered per run. */
function unpin_runs(k: Kernel, pages: PageArray, npages: number): number {
  const memmap = k.memmap;
  const zero = k.zeroPfn;
  let released = 0;
  let i = 0;
  while (i < npages) {
    const p = pages.get(i);
    if (p < 0) {
      i++;
      continue;
    }
    const f = memmap.flags(p);
    const order = (f & PG_ORDER_MASK) >>> PG_ORDER_SHIFT;
    const folio = f & PG.tail ? p - (p & ((1 << order) - 1)) : p;
    const nr = pages.spanIn(i, npages, folio, folio + (1 << order));
    if (folio !== zero && put_pins_inline(memmap.chunk(folio), folio & CHUNK_MASK, order > 0, nr))
      released += nr;
    else gup_put_folio(k, folio, nr, FOLL_PIN);
    i += nr;
  }
  return released;
}

/** unpin_user_pages() of an array of pfns; returns the pins released inline. */
function unpin_pfns(k: Kernel, pages: Int32Array | number[], npages: number): number {
  const memmap = k.memmap;
  const zero = k.zeroPfn;
  let released = 0;
  let i = 0;
  let chunkIdx = -1;
  let c = memmap.chunk(0);
  // a typed page array keeps the loads below monomorphic (the common caller case)
  const typed = pages instanceof Int32Array ? pages : null;
  while (i < npages) {
    const p = typed ? typed[i] : pages[i];
    if (p < 0) {
      i++;
      continue;
    }
    if (p >>> MEMMAP_CHUNK_SHIFT !== chunkIdx) {
      chunkIdx = p >>> MEMMAP_CHUNK_SHIFT;
      c = memmap.chunk(p);
    }
    const ci = p & CHUNK_MASK;
    const f = c.flags[ci];
    const order = (f & PG_ORDER_MASK) >>> PG_ORDER_SHIFT;
    let j = i + 1;
    if (order === 0) {
      // gup_folio_next() of a small folio: identical entries only
      if (typed) while (j < npages && typed[j] === p) j++;
      else while (j < npages && pages[j] === p) j++;
      const nr = j - i;
      if (p !== zero && put_pins_inline(c, ci, false, nr)) released += nr;
      else gup_put_folio(k, p, nr, FOLL_PIN);
    } else {
      const folio = f & PG.tail ? p - (p & ((1 << order) - 1)) : p;
      const end = folio + (1 << order);
      // gup_folio_next(): every entry of the run must lie in the folio; eight at a time
      while (
        j + 8 <= npages &&
        inRange(pages[j], folio, end) &&
        inRange(pages[j + 1], folio, end) &&
        inRange(pages[j + 2], folio, end) &&
        inRange(pages[j + 3], folio, end) &&
        inRange(pages[j + 4], folio, end) &&
        inRange(pages[j + 5], folio, end) &&
        inRange(pages[j + 6], folio, end) &&
        inRange(pages[j + 7], folio, end)
      )
        j += 8;
      while (j < npages && inRange(pages[j], folio, end)) j++;
      gup_put_folio(k, folio, j - i, FOLL_PIN);
    }
    i = j;
  }
  return released;
}

/** folio_mark_dirty() under the folio lock (set_page_dirty_lock()). */
function markDirtyLocked(k: Kernel, folio: number): void {
  if (!k.memmap.test(folio, PG.dirty)) folio_mark_dirty(k, folio);
}

/**
 * unpin_user_pages_dirty_lock(): like unpin_user_pages(), dirtying each
 * folio first when make_dirty. [UNPIN-2]: this path has no IS_ERR_VALUE
 * guard and does not skip NULL entries — in the kernel a NULL entry
 * oopses; the model raises a BUG.
 */
export function unpin_user_pages_dirty_lock(
  k: Kernel,
  pages: GupPages,
  npages: number,
  make_dirty: boolean,
): void {
  if (!make_dirty) {
    unpin_user_pages(k, pages, npages);
    return;
  }
  if (npages < 0 || !Number.isInteger(npages))
    throw new PinlabError(`unpin_user_pages_dirty_lock: npages ${npages} must be a count ≥ 0`);
  checkArray("unpin_user_pages_dirty_lock", pages, npages);
  let i = 0;
  while (i < npages) {
    const p = gup_page(pages, i);
    if (p < 0) {
      k.bug("mm/gup.c: unpin_user_pages_dirty_lock()", `NULL page at index ${i}`);
      return;
    }
    const folio = entryFolio(k, p);
    const nr = gup_folio_span(k, pages, i, npages, folio);
    markDirtyLocked(k, folio);
    gup_put_folio(k, folio, nr, FOLL_PIN);
    i += nr;
  }
}

/**
 * unpin_user_page_range_dirty_lock(): npages physically contiguous pages
 * from `page`, released per folio (run = pages left in that folio).
 */
export function unpin_user_page_range_dirty_lock(
  k: Kernel,
  page: number,
  npages: number,
  make_dirty: boolean,
): void {
  if (npages < 0 || !Number.isInteger(npages))
    throw new PinlabError(`unpin_user_page_range_dirty_lock: npages ${npages} must be a count ≥ 0`);
  let i = 0;
  while (i < npages) {
    const p = page + i;
    const folio = entryFolio(k, p);
    const nr = Math.min(npages - i, (1 << k.memmap.order(folio)) - (p - folio));
    if (make_dirty) markDirtyLocked(k, folio);
    gup_put_folio(k, folio, nr, FOLL_PIN);
    i += nr;
  }
}

/** unpin_folios(): an array of folios; runs of the same folio released together; NULL skipped. */
export function unpin_folios(k: Kernel, folios: GupPages, nfolios: number): void {
  if (badCount(k, "unpin_folios", nfolios)) return;
  checkArray("unpin_folios", folios, nfolios);
  let i = 0;
  while (i < nfolios) {
    const f = gup_page(folios, i);
    let j = i + 1;
    while (j < nfolios && gup_page(folios, j) === f) j++;
    if (f >= 0) gup_put_folio(k, f, j - i, FOLL_PIN);
    i = j;
  }
}

/**
 * folio_add_pin(): one more pin on an already pinned folio, *without*
 * counting nr_foll_pin_acquired ([ACCT-9]); WARNs if it was not pinned.
 */
export function folio_add_pin(k: Kernel, folio: number): void {
  if (folio === k.zeroPfn) return;
  const mm = k.memmap;
  if (mm.order(folio) > 0) {
    if (mm.refcount(folio + 1) < 1) k.warn("mm/gup.c: folio_add_pin()", `folio ${folio} was not pinned`);
    mm.addRefcount(folio, 1);
    mm.addRefcount(folio + 1, 1);
  } else {
    if (mm.refcount(folio) < GUP_PIN_COUNTING_BIAS)
      k.warn("mm/gup.c: folio_add_pin()", `folio ${folio} was not pinned`);
    mm.addRefcount(folio, GUP_PIN_COUNTING_BIAS);
  }
}

/** folio_add_pins(): `pins` more pins through try_grab_folio() (counted). 0 or -errno. */
export function folio_add_pins(k: Kernel, folio: number, pins: number): number {
  return try_grab_folio(k, folio, pins, FOLL_PIN);
}

/** put_page(): drop one FOLL_GET reference of a page returned by get_user_pages*(). */
export function put_page(k: Kernel, page: number): void {
  if (page < 0) throw new PinlabError("put_page: NULL page");
  folio_put_refs(k, entryFolio(k, page), 1);
}

/** release_pages()-style helper: put_page() on the first n entries, skipping NULL ones. */
export function put_user_pages(k: Kernel, pages: GupPages, n: number): void {
  checkArray("put_user_pages", pages, n);
  for (let i = 0; i < n; i++) {
    const p = gup_page(pages, i);
    if (p >= 0) put_page(k, p);
  }
}
