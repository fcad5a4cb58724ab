/**
 * Transparent huge pages at PMD level (mm/huge_memory.c): which VMAs may
 * get one, the anon THP fault and the huge zero folio, write faults on a
 * PMD leaf, splitting a PMD mapping into PTEs, zap and fork copy.
 */
import { FAULT_FLAG, VM_FAULT } from "../include/fault.js";
import { __GFP_ZERO, GFP_TRANSHUGE } from "../include/gfp.js";
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { is_cow_mapping, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_SPECIAL } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import {
  folio_add_large_mapcount,
  folio_add_entire_mapcount,
  folio_entire_mapcount,
  folio_mapcount,
  folio_maybe_dma_pinned,
  folio_put,
  folio_ref_add,
  folio_ref_count,
} from "./folio.js";
import { maybe_mkwrite } from "./memory.js";
import { NIL } from "./memmap.js";
import type { VmArea, VmFault } from "./mm_types.js";
import { PMD_SIZE, pmd_index, PteTable, type PmdTable } from "./pgtable.js";
import {
  anon_vma_prepare,
  folio_add_new_anon_rmap,
  folio_move_anon_rmap,
  folio_remove_rmap_entire,
  rmap_add_entire,
  rmap_walk,
} from "./rmap.js";

/**
 * thp_vma_allowable_order(PMD_ORDER) for a page fault on an anonymous VMA
 * (include/linux/huge_mm.h, mm/huge_memory.c: __thp_vma_allowable_orders()):
 * THP configured, not VM_NOHUGEPAGE, sysfs "always" or "madvise" with
 * VM_HUGEPAGE, and the aligned 2 MiB range inside the VMA
 * (thp_vma_suitable_order()).
 */
export function thp_vma_allowable_pmd(k: Kernel, vma: VmArea, addr: number): boolean {
  if (!k.config.kconfig.TRANSPARENT_HUGEPAGE) return false;
  if (!vma.isAnonymous() || vma.vm_flags & VM_SPECIAL) return false;
  if (vma.vm_flags & VM_NOHUGEPAGE) return false;
  const mode = k.config.thp;
  if (mode === "never") return false;
  if (mode === "madvise" && !(vma.vm_flags & VM_HUGEPAGE)) return false;
  const haddr = Math.floor(addr / PMD_SIZE) * PMD_SIZE;
  return haddr >= vma.vm_start && haddr + PMD_SIZE <= vma.vm_end;
}

/** create_huge_pmd() → do_huge_pmd_anonymous_page() */
export function create_huge_pmd(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma;
  const haddr = Math.floor(vmf.address / PMD_SIZE) * PMD_SIZE;
  const pmdt = vma.vm_mm.pgtables.pmdTable(haddr, true)!;
  const pi = pmd_index(haddr);
  anon_vma_prepare(k, vma);
  if (!(vmf.flags & FAULT_FLAG.WRITE) && k.config.thpUseZeroPage) {
    // a read fault maps the huge zero folio, special since 6.18
    const zero = k.getHugeZeroFolio();
    if (zero !== NIL) {
      pmdt.pfn[pi] = zero;
      pmdt.bits[pi] = PTE.PRESENT | PTE.LEAF | PTE.SPECIAL | PTE.YOUNG;
      k.trace.emit("fault_huge_zero", "mm/huge_memory.c: do_huge_pmd_anonymous_page()", {
        mm: vma.vm_mm.id,
        addr: haddr,
      });
      return 0;
    }
  }
  const folio = vma_alloc_anon_folio_pmd(k);
  if (folio === NIL) return VM_FAULT.FALLBACK;
  map_anon_folio_pmd(k, folio, pmdt, pi, vma, haddr);
  return 0;
}

/** vma_alloc_anon_folio_pmd(): a zeroed order-9 folio, or NIL (thp_fault_fallback). */
function vma_alloc_anon_folio_pmd(k: Kernel): number {
  const folio = k.pa.alloc_pages(GFP_TRANSHUGE | __GFP_ZERO, HPAGE_PMD_ORDER, PG.large_rmappable);
  if (folio === NIL) {
    k.vmstat.thp_fault_fallback++;
    return NIL;
  }
  k.vmstat.thp_fault_alloc++;
  return folio;
}

/** map_anon_folio_pmd(): map a new exclusive anon THP writable and dirty. */
function map_anon_folio_pmd(
  k: Kernel,
  folio: number,
  pmdt: PmdTable,
  pi: number,
  vma: VmArea,
  haddr: number,
): void {
  folio_add_new_anon_rmap(k, folio, vma, haddr, true, true);
  pmdt.pfn[pi] = folio;
  pmdt.bits[pi] = maybe_mkwrite(PTE.PRESENT | PTE.LEAF | PTE.DIRTY | PTE.YOUNG, vma);
  k.trace.emit("fault_thp", "mm/huge_memory.c: map_anon_folio_pmd()", {
    mm: vma.vm_mm.id,
    addr: haddr,
    pfn: folio,
  });
}

/**
 * wp_huge_pmd() → do_huge_pmd_wp_page(): reuse an exclusive THP or one we
 * hold the only reference to; replace the huge zero folio with a new THP;
 * otherwise split the PMD and let the PTE fault copy one subpage
 * (VM_FAULT_FALLBACK).
 */
export function wp_huge_pmd(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma;
  const unshare = (vmf.flags & FAULT_FLAG.UNSHARE) !== 0;
  const haddr = Math.floor(vmf.address / PMD_SIZE) * PMD_SIZE;
  const pmdt = vma.vm_mm.pgtables.pmdTable(haddr, false)!;
  const pi = pmd_index(haddr);
  const bits = pmdt.bits[pi];
  const pfn = pmdt.pfn[pi];
  if (!vma.isAnonymous()) {
    __split_huge_pmd(k, vma, haddr);
    return VM_FAULT.FALLBACK;
  }
  if (bits & PTE.SPECIAL && pfn === k.hugeZeroPfn) {
    // do_huge_zero_wp_pmd()
    const folio = vma_alloc_anon_folio_pmd(k);
    if (folio === NIL) {
      __split_huge_pmd(k, vma, haddr);
      return VM_FAULT.FALLBACK;
    }
    map_anon_folio_pmd(k, folio, pmdt, pi, vma, haddr);
    if (unshare) pmdt.bits[pi] &= ~PTE.WRITE;
    return 0;
  }
  const folio = pfn;
  if (k.memmap.test(folio, PG.anon_exclusive) || folio_ref_count(k, folio) === 1) {
    if (!k.memmap.test(folio, PG.anon_exclusive)) {
      folio_move_anon_rmap(k, folio, vma);
      k.memmap.set(folio, PG.anon_exclusive);
    }
    if (!unshare) pmdt.bits[pi] = maybe_mkwrite(bits | PTE.DIRTY | PTE.YOUNG, vma);
    return 0;
  }
  __split_huge_pmd(k, vma, haddr);
  return VM_FAULT.FALLBACK;
}

/**
 * __split_huge_pmd(): replace a PMD leaf by a PTE table mapping the same
 * 512 pages. The folio stays large (PTE-mapped THP); each PTE holds a
 * mapcount and a reference; PageAnonExclusive of the head spreads to every
 * subpage. The huge zero folio becomes 512 zero-page PTEs.
 */
export function __split_huge_pmd(k: Kernel, vma: VmArea, haddr: number): void {
  const pmdt = vma.vm_mm.pgtables.pmdTable(haddr, false);
  if (!pmdt) return;
  const pi = pmd_index(haddr);
  const bits = pmdt.bits[pi];
  if (!(bits & PTE.LEAF)) return;
  const pfn = pmdt.pfn[pi];
  const t = new PteTable();
  const special = (bits & PTE.SPECIAL) !== 0;
  const pteBits = bits & ~PTE.LEAF;
  if (special) {
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      t.pfn[i] = k.zeroPfn;
      t.bits[i] = (pteBits & ~PTE.WRITE) | PTE.SPECIAL;
    }
  } else {
    const folio = pfn;
    const anon = k.memmap.test(folio, PG.anon);
    const exclusive = anon && k.memmap.test(folio, PG.anon_exclusive);
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      t.pfn[i] = folio + i;
      t.bits[i] = pteBits;
      k.memmap.addMapcount(folio + i, 1);
      if (exclusive) k.memmap.set(folio + i, PG.anon_exclusive);
    }
    folio_add_entire_mapcount(k, folio, -1);
    folio_add_large_mapcount(k, folio, HPAGE_PMD_NR - 1);
    folio_ref_add(k, folio, HPAGE_PMD_NR - 1);
  }
  t.used = HPAGE_PMD_NR;
  pmdt.bits[pi] = 0;
  pmdt.pfn[pi] = 0;
  vma.vm_mm.pgtables.installPteTable(pmdt, pi, t);
  k.vmstat.thp_split_pmd++;
  k.trace.emit("thp_split_pmd", "mm/huge_memory.c: __split_huge_pmd_locked()", {
    mm: vma.vm_mm.id,
    addr: haddr,
    pfn,
  });
}

/** zap_huge_pmd() */
export function zap_huge_pmd(k: Kernel, vma: VmArea, pmdt: PmdTable, pi: number): void {
  const bits = pmdt.bits[pi];
  const pfn = pmdt.pfn[pi];
  pmdt.bits[pi] = 0;
  pmdt.pfn[pi] = 0;
  if (bits & PTE.SPECIAL) return;
  if (bits & PTE.DIRTY && !k.memmap.test(pfn, PG.anon)) k.memmap.set(pfn, PG.dirty);
  folio_remove_rmap_entire(k, pfn, vma);
  folio_put(k, pfn);
}

/**
 * copy_huge_pmd(): fork of a PMD-mapped THP. Shares it write-protected,
 * unless it is exclusive and maybe pinned in an mm that has pinned: then
 * the parent's PMD is split and -EAGAIN makes the caller copy PTE by PTE
 * (so every subpage of the pinned THP is copied for the child).
 */
export function copy_huge_pmd(k: Kernel, dst: VmArea, src: VmArea, addr: number): number {
  const haddr = Math.floor(addr / PMD_SIZE) * PMD_SIZE;
  const spmd = src.vm_mm.pgtables.pmdTable(haddr, false)!;
  const pi = pmd_index(haddr);
  const bits = spmd.bits[pi];
  const pfn = spmd.pfn[pi];
  const dpmd = dst.vm_mm.pgtables.pmdTable(haddr, true)!;
  if (bits & PTE.SPECIAL) {
    dpmd.pfn[pi] = pfn;
    dpmd.bits[pi] = bits & ~PTE.YOUNG;
    return 0;
  }
  const folio = pfn;
  if (k.memmap.test(folio, PG.anon)) {
    // __folio_try_dup_anon_rmap(PMD level)
    if (k.memmap.test(folio, PG.anon_exclusive)) {
      if (src.vm_mm.hasPinned() && folio_maybe_dma_pinned(k, folio)) {
        __split_huge_pmd(k, src, haddr);
        return -11; // -EAGAIN
      }
      k.memmap.clear(folio, PG.anon_exclusive);
    }
  }
  folio_ref_add(k, folio, 1);
  rmap_add_entire(k, folio, dst);
  let nb = bits & ~PTE.YOUNG;
  if (is_cow_mapping(src.vm_flags)) {
    spmd.bits[pi] &= ~PTE.WRITE;
    nb &= ~PTE.WRITE;
  }
  dpmd.pfn[pi] = pfn;
  dpmd.bits[pi] = nb;
  return 0;
}

/**
 * can_split_folio(): every reference is accounted for by mappings, the page
 * or swap cache and the caller's own; a pin breaks the equality.
 */
export function can_split_folio(k: Kernel, folio: number, callerPins: number): boolean {
  const nr = 1 << k.memmap.order(folio);
  const extra = k.memmap.test(folio, PG.anon) ? (k.memmap.test(folio, PG.swapcache) ? nr : 0) : nr;
  return folio_mapcount(k, folio) === folio_ref_count(k, folio) - extra - callerPins;
}

/**
 * split_folio() (__folio_split() to order 0): refuses with -EAGAIN when the
 * folio has unexpected references (a pin: P6), -EINVAL for hugetlb. Every
 * PMD mapping is split into PTEs first (the mapping split is always
 * allowed); then each page becomes its own folio carrying its own
 * mapcount, page-cache reference and PageAnonExclusive. Pages nobody maps
 * any more are freed — this is what reclaims a partially unmapped THP.
 */
export function split_folio(k: Kernel, folio: number): number {
  const mm = k.memmap;
  if (mm.test(folio, PG.hugetlb)) return -22;
  const order = mm.order(folio);
  if (order === 0) return 0;
  if (!can_split_folio(k, folio, 0)) {
    k.vmstat.thp_split_page_failed++;
    k.trace.emit("thp_split_refused", "mm/huge_memory.c: can_split_folio()", {
      pfn: folio,
      refcount: folio_ref_count(k, folio),
      mapcount: folio_mapcount(k, folio),
      pinned: folio_maybe_dma_pinned(k, folio),
    });
    return -11; // -EAGAIN
  }
  if (folio_entire_mapcount(k, folio) > 0) {
    rmap_walk(k, folio, (vma, addr) => {
      const haddr = Math.floor(addr / PMD_SIZE) * PMD_SIZE;
      const pmd = vma.vm_mm.pgtables.pmdTable(haddr, false);
      if (pmd && pmd.bits[pmd_index(haddr)] & PTE.LEAF && pmd.pfn[pmd_index(haddr)] === folio)
        __split_huge_pmd(k, vma, haddr);
    });
  }
  const nr = 1 << order;
  const anon = mm.test(folio, PG.anon);
  const keep = mm.flags(folio) & (PG.anon | PG.swapbacked | PG.uptodate | PG.dirty | PG.lru | PG.swapcache);
  const mapping = mm.mapping(folio);
  const index = mm.index(folio);
  const cacheRef = anon ? 0 : 1;
  const toFree: number[] = [];
  for (let i = 0; i < nr; i++) {
    const p = folio + i;
    const excl = mm.test(p, PG.anon_exclusive);
    const mapcount = mm.mapcount(p);
    mm.makeFolio(p, 0, keep | (excl ? PG.anon_exclusive : 0));
    mm.setMapcount(p, mapcount);
    mm.setMapping(p, mapping);
    mm.setIndex(p, index + i);
    mm.setRefcount(p, mapcount + cacheRef);
    if (mapcount + cacheRef === 0) toFree.push(p);
  }
  k.vmstat.thp_split_page++;
  k.trace.emit("thp_split_page", "mm/huge_memory.c: __folio_split()", {
    pfn: folio,
    order,
    freed: toFree.length,
  });
  for (const p of toFree) {
    mm.clear(p, PG.lru);
    k.pa.__free_pages(p, 0);
  }
  return 0;
}

/**
 * deferred_split_scan(): the shrinker that splits anon THPs partially
 * unmapped earlier (deferred_split_folio() queued them). A pinned folio
 * cannot be split and stays queued, keeping all its memory.
 */
export function deferred_split_scan(k: Kernel): number {
  let split = 0;
  for (const folio of [...k.deferredSplit]) {
    if (k.memmap.order(folio) === 0 || k.memmap.refcount(folio) === 0) {
      k.deferredSplit.delete(folio);
      continue;
    }
    if (split_folio(k, folio) === 0) {
      k.deferredSplit.delete(folio);
      split++;
    }
  }
  return split;
}
