/**
 * GUP-fast (mm/gup.c, CONFIG_HAVE_GUP_FAST): the lockless walk of
 * current->mm's page tables that grabs pages without mmap_lock, and the
 * fallback to the slow path for whatever it could not take.
 *
 * The walk takes the pin (or reference) *first* and then re-checks: the
 * entry is unchanged, the folio is allowed (gup_fast_folio_allowed()), no
 * unshare is needed — dropping the pin again on failure. So a refused pin
 * is still counted in nr_foll_pin_acquired and nr_foll_pin_released
 * ([ACCT-8], [EXP-7d]). It stops at the first entry it cannot handle and
 * keeps the prefix (§11.2). The model's walk is atomic with respect to
 * everything else, so the "entry changed under us" re-checks always pass
 * and a write_protect_seq that is odd at entry (a fork in progress, as
 * when a fork() hook calls GUP) is the only way [FAST-5]/[FAST-6] trigger.
 *
 * Hot path: PTE tables are walked directly (typed arrays), a PMD or PUD
 * leaf is one folio operation, and nothing is allocated per page.
 */
import { EFAULT, EINVAL, EOVERFLOW } from "../include/errno.js";
import {
  FOLL_FAST_ONLY,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_HONOR_NUMA_FAULT,
  FOLL_LONGTERM,
  FOLL_NOFAULT,
  FOLL_PCI_P2PDMA,
  FOLL_PIN,
  FOLL_TOUCH,
  FOLL_UNLOCKABLE,
  FOLL_WRITE,
  formatFoll,
} from "../include/foll_flags.js";
import { MIGRATE, PAGE_SIZE, pageblock_order, ZONE } from "../include/mmzone.js";
import { PG, PG_ORDER_MASK, PG_ORDER_SHIFT } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { PinlabError } from "../errors.js";
import type { Kernel } from "../kernel.js";
import { GUP_PIN_COUNTING_BIAS } from "./folio.js";
import {
  fill_subpages,
  gup_folio_span,
  gup_must_unshare,
  gup_page,
  gup_put_folio,
  type GupPages,
  try_grab_folio_fast,
} from "./gup_refs.js";
import { __gup_longterm_locked } from "./gup_longterm.js";
import { mm_set_has_pinned_flag } from "./gup_slow.js";
import { MEMMAP_CHUNK_PAGES, MEMMAP_CHUNK_SHIFT } from "./memmap.js";
import { PageArray } from "./page_array.js";
import { secretmem_mapping } from "./secretmem.js";
import { shmem_mapping } from "./shmem.js";
import type { MmStruct } from "./mm_types.js";
import { PGDIR_SIZE, PMD_SIZE, type PteTable, PUD_SIZE, TASK_SIZE } from "./pgtable.js";

const CHUNK_MASK = (1 << MEMMAP_CHUNK_SHIFT) - 1;
// the PTE loop decides pageblock properties once per memmap chunk
if (MEMMAP_CHUNK_SHIFT !== pageblock_order) throw new Error("gup_fast: a memmap chunk must be one pageblock");

// pgd/pud/pmd/pte_index() without a floating-point modulo (the hot walk's main cost): the
// quotients are non-negative, and ToInt32 keeps the low bits even past 2^31
const PTRS_MASK = 511;
function pgdIdx(addr: number): number {
  return (addr / PGDIR_SIZE) & PTRS_MASK;
}
function pudIdx(addr: number): number {
  return (addr / PUD_SIZE) & PTRS_MASK;
}
function pmdIdx(addr: number): number {
  return (addr / PMD_SIZE) & PTRS_MASK;
}
function pteIdx(addr: number): number {
  return (addr / PAGE_SIZE) & PTRS_MASK;
}

/** The flags gup_fast_fallback() accepts ([ARG-8]). */
export const GUP_FAST_FLAGS =
  FOLL_WRITE |
  FOLL_LONGTERM |
  FOLL_FORCE |
  FOLL_PIN |
  FOLL_GET |
  FOLL_FAST_ONLY |
  FOLL_NOFAULT |
  FOLL_PCI_P2PDMA |
  FOLL_HONOR_NUMA_FAULT;

/** x86-64 TASK_SIZE_MAX (4-level paging) */
export const TASK_SIZE_MAX = TASK_SIZE;

/**
 * gup_fast_folio_allowed() (§11.5): without a VMA, accept only what is
 * surely safe. A writable long-term pin (reject_file_backed) may land on
 * anonymous, shmem or hugetlb folios only; a small folio (check_secretmem)
 * may not be secretmem. A folio without a mapping (truncated) is refused
 * and left to the slow path, which decides with the VMA.
 */
export function gup_fast_folio_allowed(k: Kernel, folio: number, flags: number): boolean {
  const reject_file_backed =
    (flags & (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE)) === (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE);
  const f = k.memmap.flags(folio);
  const check_secretmem = k.config.kconfig.SECRETMEM && !(f & PG_ORDER_MASK);
  if (!reject_file_backed && !check_secretmem) return true;
  if (f & PG.kernel) {
    // folio_test_slab()
    k.warn("mm/gup.c: gup_fast_folio_allowed()", `slab folio ${folio} in a user page table`);
    return false;
  }
  if (f & PG.hugetlb) return true;
  const mapping = k.memmap.mapping(folio);
  if (mapping === 0) return false;
  // the mapping pointer's type bits: anonymous (and KSM) folios are fine
  if (f & PG.anon) return true;
  if (check_secretmem && secretmem_mapping(k, mapping)) return false;
  // the only remaining allowed file system is shmem
  return !reject_file_backed || shmem_mapping(k, mapping);
}

// flag bits the inline small-folio path tests, as plain constants for the JIT
const F_ORDER_OR_KERNEL = PG_ORDER_MASK | PG.kernel;
const F_ANON = PG.anon;
const F_ANON_EXCLUSIVE = PG.anon_exclusive;
const F_REFERENCED = PG.referenced;
const F_LEAF_REFUSE = PG.kernel | PG.tail;
const PTE_WRITE = PTE.WRITE;
const MT_CMA = MIGRATE.CMA;
const MT_ISOLATE = MIGRATE.ISOLATE;

/**
 * The PTE loop of gup_fast_pte_range(), over n entries of one table from
 * index i0, recording into pages[base ..]. Returns how many were taken;
 * fewer than n means the walk stops there. [FAST-7]: PROT_NONE, entries
 * not access-permitted (present, and writable for FOLL_WRITE: FOLL_FORCE is
 * never honoured here), and special entries (zero page, PFN maps) stop it.
 */
function gup_fast_pte_range(
  k: Kernel,
  t: PteTable,
  i0: number,
  n: number,
  flags: number,
  pages: GupPages,
  base: number,
): number {
  const want = PTE.PRESENT | (flags & FOLL_WRITE ? PTE.WRITE : 0);
  const mask = want | PTE.PROTNONE | PTE.SPECIAL;
  const tbits = t.bits;
  const tpfn = t.pfn;
  const memmap = k.memmap;
  const vmstat = k.vmstat;
  // the common case, a long-term or short-term pin of small anonymous folios,
  // runs inline below; everything else goes through the generic helpers
  const pin = (flags & FOLL_PIN) !== 0;
  const longterm = (flags & FOLL_LONGTERM) !== 0;
  const kc = k.config.kconfig;
  const cmaCheck = kc.MIGRATION && kc.CMA;
  const zm = k.pa.zones[ZONE.MOVABLE];
  const movLo = kc.MIGRATION && zm !== undefined ? zm.startPfn : 0;
  const movHi = kc.MIGRATION && zm !== undefined ? zm.endPfn : 0;
  const pbmt = k.pa.pageblockMt;
  let acquired = 0;
  let chunkIdx = -1;
  // the current chunk's fields, reloaded only when the loop enters another chunk
  const c0 = memmap.chunk(0);
  let cFlags = c0.flags;
  let cRef = c0.refcount;
  let cMap = c0.mapping;
  let ltRefuse = false;
  let ltZone = false;
  let j = 0;
  // the loop stores entries one by one: a PageArray hands out its dense store
  const out = pages instanceof PageArray ? pages.denseFor(base, base + n) : pages;
  // a typed page array takes the monomorphic store below (the common caller case)
  const typed = out instanceof Int32Array ? out : null;
  for (; j < n; j++) {
    const bits = tbits[i0 + j];
    if ((bits & mask) !== want) break;
    const page = tpfn[i0 + j];
    if (page >>> MEMMAP_CHUNK_SHIFT !== chunkIdx) {
      chunkIdx = page >>> MEMMAP_CHUNK_SHIFT;
      const c = memmap.chunk(page);
      cFlags = c.flags;
      cRef = c.refcount;
      cMap = c.mapping;
      // folio_is_longterm_pinnable()'s migratetype test is per pageblock, and a memmap
      // chunk is one pageblock: decide it once per chunk, and the ZONE_MOVABLE range
      // test only for a chunk that reaches into the range
      const lo = chunkIdx << MEMMAP_CHUNK_SHIFT;
      const mt = pbmt[page >>> pageblock_order];
      ltRefuse = longterm && cmaCheck && (mt === MT_CMA || mt === MT_ISOLATE);
      ltZone = longterm && lo + MEMMAP_CHUNK_PAGES > movLo && lo < movHi;
    }
    const ci = page & CHUNK_MASK;
    const fl = cFlags[ci];
    if (
      pin &&
      (fl & (F_ORDER_OR_KERNEL | F_ANON)) === F_ANON &&
      cMap[ci] !== 0 &&
      (bits & PTE_WRITE || fl & F_ANON_EXCLUSIVE)
    ) {
      // try_grab_folio_fast() on a small anonymous folio, with the checks
      // that cannot fail for it folded away: gup_fast_folio_allowed() is
      // true for anon folios, gup_must_unshare() false for exclusive ones
      const rc = cRef[ci];
      if (rc <= 0) {
        if (rc < 0) k.warn("mm/gup.c: try_get_folio()", `folio ${page} has a negative refcount ${rc}`);
        break;
      }
      if (ltRefuse) break; // [FAST-8]: no refs taken
      if (ltZone && page >= movLo && page < movHi) break;
      cRef[ci] = rc + GUP_PIN_COUNTING_BIAS;
      acquired++;
      cFlags[ci] = fl | F_REFERENCED;
      if (typed) typed[base + j] = page;
      else out[base + j] = page;
      continue;
    }
    const folio = try_grab_folio_fast(k, page, 1, flags);
    if (folio < 0) break;
    if (
      !gup_fast_folio_allowed(k, folio, flags) ||
      (!(bits & PTE.WRITE) && gup_must_unshare(k, null, flags, page))
    ) {
      gup_put_folio(k, folio, 1, flags);
      break;
    }
    memmap.set(folio, PG.referenced);
    out[base + j] = page;
  }
  if (acquired) vmstat.nr_foll_pin_acquired += acquired;
  return j;
}

/**
 * gup_fast_pmd_leaf() / gup_fast_pud_leaf(): one grab of `refs` subpages of
 * a huge leaf, released again if the folio is not allowed or needs
 * unsharing. Special leaves (huge zero folio, huge PFN maps) are refused
 * ([ZERO-3]). Returns refs taken or 0.
 */
function gup_fast_leaf(
  k: Kernel,
  bits: number,
  head: number,
  addr: number,
  next: number,
  leafSize: number,
  flags: number,
  pages: GupPages,
  base: number,
): number {
  if (!(bits & PTE.PRESENT) || (flags & FOLL_WRITE && !(bits & PTE.WRITE))) return 0;
  if (bits & PTE.SPECIAL) return 0;
  const refs = (next - addr) / PAGE_SIZE;
  const page = head + (addr % leafSize) / PAGE_SIZE;
  if (flags & FOLL_PIN && bits & PTE_WRITE && gup_fast_leaf_anon(k, head, page, refs, flags)) {
    fill_subpages(pages, base, page, refs);
    return refs;
  }
  const folio = try_grab_folio_fast(k, page, refs, flags);
  if (folio < 0) return 0;
  if (
    !gup_fast_folio_allowed(k, folio, flags) ||
    (!(bits & PTE.WRITE) && gup_must_unshare(k, null, flags, folio))
  ) {
    gup_put_folio(k, folio, refs, flags);
    return 0;
  }
  fill_subpages(pages, base, page, refs);
  k.memmap.set(folio, PG.referenced);
  return refs;
}

/**
 * The common leaf case inline: `refs` pins of a writable large anonymous
 * folio, whose head is `folio`. It is try_grab_folio_fast() with the memmap
 * chunk looked up once — refcount > 0, folio_is_longterm_pinnable() for
 * FOLL_LONGTERM (an anonymous folio is never fsdax, a large one never the
 * zero page), +refs refcount and _pincount — then gup_fast_folio_allowed()
 * (true for anon) and folio_set_referenced(); gup_must_unshare() is not
 * asked of a writable leaf. Returns false, having changed nothing, for
 * anything else, which the generic path then decides.
 */
function gup_fast_leaf_anon(k: Kernel, folio: number, page: number, refs: number, flags: number): boolean {
  const c = k.memmap.chunk(folio);
  const ci = folio & CHUNK_MASK;
  const fl = c.flags[ci];
  // a large anonymous folio's head (not slab), covering every subpage asked for
  if ((fl & (F_LEAF_REFUSE | F_ANON)) !== F_ANON || !(fl & PG_ORDER_MASK)) return false;
  if (page - folio + refs > 1 << ((fl & PG_ORDER_MASK) >>> PG_ORDER_SHIFT) || c.mapping[ci] === 0)
    return false;
  const rc = c.refcount[ci];
  if (rc <= 0) return false;
  if (flags & FOLL_LONGTERM) {
    const kc = k.config.kconfig;
    if (kc.MIGRATION) {
      if (kc.CMA) {
        const mt = k.pa.pageblockMt[folio >>> pageblock_order];
        if (mt === MT_CMA || mt === MT_ISOLATE) return false;
      }
      const zm = k.pa.zones[ZONE.MOVABLE];
      if (zm !== undefined && folio >= zm.startPfn && folio < zm.endPfn) return false;
    }
  }
  c.refcount[ci] = rc + refs;
  c.refcount[ci + 1] += refs; // _pincount in page[1]: a large folio's page[1] shares its chunk
  k.vmstat.nr_foll_pin_acquired += refs;
  c.flags[ci] = fl | F_REFERENCED;
  return true;
}

/** gup_fast_pgd_range() … gup_fast_pte_range(): the lockless walk of [start, end). */
function gup_fast_walk(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  flags: number,
  pages: GupPages,
  off: number,
): number {
  const pgd = mm.pgtables.pgd;
  let nr = 0;
  let addr = start;
  while (addr < end) {
    const pud = pgd[pgdIdx(addr)];
    if (!pud) return nr;
    const ui = pudIdx(addr);
    const pudBits = pud.bits[ui];
    if (pudBits & PTE.LEAF) {
      const next = Math.min(end, (Math.floor(addr / PUD_SIZE) + 1) * PUD_SIZE);
      const got = gup_fast_leaf(k, pudBits, pud.pfn[ui], addr, next, PUD_SIZE, flags, pages, off + nr);
      if (!got) return nr;
      nr += got;
      addr = next;
      continue;
    }
    const pmdt = pud.pmd[ui];
    if (!pmdt) return nr;
    const mi = pmdIdx(addr);
    const next = Math.min(end, (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE);
    const pbits = pmdt.bits[mi];
    if (pbits & PTE.LEAF) {
      if (pbits & PTE.PROTNONE) return nr;
      const got = gup_fast_leaf(k, pbits, pmdt.pfn[mi], addr, next, PMD_SIZE, flags, pages, off + nr);
      if (!got) return nr;
      nr += got;
    } else {
      const t = pmdt.pte[mi];
      if (pbits !== 0 || !t) return nr; // pmd not present
      const n = (next - addr) / PAGE_SIZE;
      const got = gup_fast_pte_range(k, t, pteIdx(addr), n, flags, pages, off + nr);
      nr += got;
      if (got < n) return nr;
    }
    addr = next;
  }
  return nr;
}

/** gup_fast_unpin_user_pages(): undo a walk that raced with fork. */
function gup_fast_unpin_user_pages(k: Kernel, pages: GupPages, off: number, n: number): void {
  let i = 0;
  while (i < n) {
    const p = gup_page(pages, off + i);
    const folio = k.memmap.head(p);
    const nr = gup_folio_span(k, pages, off + i, off + n, folio);
    gup_put_folio(k, folio, nr, FOLL_PIN);
    i += nr;
  }
}

/**
 * gup_fast(): the walk bracketed by write_protect_seq for FOLL_PIN
 * ([FAST-5], [FAST-6]): a fork copying page tables (odd sequence) makes the
 * whole fast attempt give up, so pins never race with COW sharing.
 */
export function gup_fast(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  gup_flags: number,
  pages: GupPages,
  off = 0,
): number {
  if (!k.config.kconfig.HAVE_GUP_FAST) return 0;
  // gup_fast_permitted(): x86-64 refuses ends beyond the address width; already checked
  let seq = 0;
  if (gup_flags & FOLL_PIN) {
    seq = mm.write_protect_seq;
    if (seq & 1) return 0;
  }
  const nr = gup_fast_walk(k, mm, start, end, gup_flags, pages, off);
  if (gup_flags & FOLL_PIN && mm.write_protect_seq !== seq) {
    gup_fast_unpin_user_pages(k, pages, off, nr);
    return 0;
  }
  return nr;
}

/**
 * gup_fast_fallback(): validate the flags ([ARG-8]) and the range
 * ([ARG-10]), set MMF_HAS_PINNED ([FAST-1]), walk locklessly, and unless
 * FOLL_FAST_ONLY get the rest through __gup_longterm_locked() with
 * FOLL_TOUCH|FOLL_UNLOCKABLE ([FAST-2] … [FAST-4]). The fast prefix is kept
 * even if the slow path fails.
 */
export function gup_fast_fallback(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages,
): number {
  if (gup_flags & ~GUP_FAST_FLAGS) {
    k.warn(
      "mm/gup.c: gup_fast_fallback()",
      `flags outside the GUP-fast set: ${formatFoll(gup_flags & ~GUP_FAST_FLAGS)}`,
    );
    return -EINVAL;
  }
  const task = k.current;
  if (!task || !task.mm)
    throw new PinlabError(
      "gup_fast_fallback: no current process with an mm; run it inside k.asTask(task, ...)",
    );
  const mm = task.mm;
  if (gup_flags & FOLL_PIN) mm_set_has_pinned_flag(mm);
  // start = untagged_addr(start) & PAGE_MASK; len = (unsigned long)nr_pages << PAGE_SHIFT
  start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  if (nr_pages < 0) {
    // the int count becomes a huge unsigned long: start + len wraps (-EOVERFLOW) unless
    // start < |nr_pages| pages, where end lands above TASK_SIZE_MAX (-EFAULT). gup-api.md
    // [ARG-10] says "-EFAULT when start is 0"; the kernel's check_add_overflow() arithmetic
    // (which wins) gives -EFAULT for every such small start.
    return start >= -nr_pages * PAGE_SIZE ? -EOVERFLOW : -EFAULT;
  }
  const end = start + nr_pages * PAGE_SIZE;
  if (end >= 2 ** 64) return -EOVERFLOW;
  if (end > TASK_SIZE_MAX) return -EFAULT;
  if (nr_pages === 0) {
    // [ARG-11]: the kernel has no zero-count guard here and its walk is then
    // unbounded; the model answers 0 and says so
    if (k.trace.enabled)
      k.trace.emit("gup_fast_zero_count", "mm/gup.c: gup_fast_fallback()", { start, flags: gup_flags });
    return 0;
  }
  if (pages.length < nr_pages)
    throw new PinlabError(
      `gup_fast_fallback: the page array holds ${pages.length} entries, fewer than nr_pages=${nr_pages}`,
    );
  const nr_pinned = gup_fast(k, mm, start, end, gup_flags, pages, 0);
  if (nr_pinned === nr_pages || gup_flags & FOLL_FAST_ONLY) return nr_pinned;
  if (k.trace.enabled)
    k.trace.emit("gup_fast_fallback", "mm/gup.c: gup_fast_fallback()", {
      mm: mm.id,
      start,
      fast: nr_pinned,
      slow: nr_pages - nr_pinned,
      flags: formatFoll(gup_flags),
    });
  const ret = __gup_longterm_locked(
    k,
    mm,
    start + nr_pinned * PAGE_SIZE,
    nr_pages - nr_pinned,
    pages,
    nr_pinned,
    { value: 0 },
    gup_flags | FOLL_TOUCH | FOLL_UNLOCKABLE,
  );
  if (ret < 0) {
    // the caller has to unpin what the fast walk got: an errno is not an option
    return nr_pinned ? nr_pinned : ret;
  }
  return ret + nr_pinned;
}
