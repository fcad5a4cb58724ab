/**
 * Page faults, COW and unsharing, zapping, and the page-table copy of fork
 * (mm/memory.c). PMD-level THP handling is in huge_memory.ts, hugetlb in
 * hugetlb_fault.ts; file systems answer ->fault through VmOperations.
 */
import { FAULT_FLAG, VM_FAULT, VM_FAULT_ERROR } from "../include/fault.js";
import { folio_mark_dirty } from "./page_writeback.js";
import { __GFP_ZERO, GFP_HIGHUSER_MOVABLE } from "../include/gfp.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import {
  is_cow_mapping,
  VM_MAYSHARE,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
  VM_MIXEDMAP,
} from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import {
  folio_get,
  folio_maybe_dma_pinned,
  folio_put,
  folio_ref_count,
  folio_test_anon,
  folio_test_large,
  folio_large_mapcount,
  PageAnonExclusive,
  folio_copy_content,
} from "./folio.js";
import {
  copy_huge_pmd,
  create_huge_pmd,
  thp_vma_allowable_pmd,
  wp_huge_pmd,
  zap_huge_pmd,
  __split_huge_pmd,
} from "./huge_memory.js";
import { copy_hugetlb_page_range, hugetlb_fault, zap_hugetlb_range } from "./hugetlb_fault.js";
import { NIL } from "./memmap.js";
import { LEVEL_NONE, walk_addr } from "./pagewalk.js";
import type { MmStruct, VmArea, VmFault } from "./mm_types.js";
import { PMD_SIZE, pmd_index, pte_index, type PteTable } from "./pgtable.js";
import {
  anon_vma_prepare,
  folio_add_new_anon_rmap,
  folio_move_anon_rmap,
  folio_remove_rmap_ptes,
  rmap_add_ptes,
  rmap_walk,
} from "./rmap.js";

// --- helpers ------------------------------------------------------------------

/** The PTE of addr in mm: [table, index] or null (no table / under a huge leaf). */
export function pte_lookup(mm: MmStruct, addr: number): [PteTable, number] | null {
  const t = mm.pgtables.pteTable(addr, false);
  return t ? [t, pte_index(addr)] : null;
}

/**
 * vm_normal_page(): the page behind a present PTE, or NIL for special
 * mappings (the zero page is mapped special; VM_PFNMAP has no struct page).
 */
export function vm_normal_page(vma: VmArea, bits: number, pfn: number): number {
  if (bits & PTE.SPECIAL) return NIL;
  if (vma.vm_flags & (VM_PFNMAP | VM_MIXEDMAP) && bits & PTE.SPECIAL) return NIL;
  return pfn;
}

/** maybe_mkwrite(): writable only if the VMA is. */
export function maybe_mkwrite(bits: number, vma: VmArea): number {
  return vma.vm_flags & VM_WRITE ? bits | PTE.WRITE : bits;
}

function set_pte(t: PteTable, i: number, pfn: number, bits: number): void {
  if (t.bits[i] === 0 && bits !== 0) t.used++;
  else if (t.bits[i] !== 0 && bits === 0) t.used--;
  t.pfn[i] = pfn;
  t.bits[i] = bits;
}

/** A new anon folio of the VMA (vma_alloc_zeroed_movable_folio()). */
function alloc_anon_folio(k: Kernel): number {
  return k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0);
}

// --- handle_mm_fault ------------------------------------------------------------

/**
 * handle_mm_fault(): resolve a fault at addr in vma. Returns 0 or VM_FAULT_*
 * bits. The caller has checked the VMA's permissions (do_user_addr_fault()'s
 * access_error(), or GUP's check_vma_flags()).
 */
export function handle_mm_fault(k: Kernel, vma: VmArea, addr: number, flags: number): number {
  k.vmstat.pgfault++;
  addr = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  if (k.oops) return VM_FAULT.SIGBUS;
  if (vma.isHugetlb()) return hugetlb_fault(k, vma, addr, flags);
  const vmf: VmFault = { vma, address: addr, pgoff: vma.pgoffOf(addr), flags, page: NIL };
  return __handle_mm_fault(k, vmf);
}

function __handle_mm_fault(k: Kernel, vmf: VmFault): number {
  const { vma, address: addr } = vmf;
  const mm = vma.vm_mm;
  const pmdt = mm.pgtables.pmdTable(addr, true)!;
  const pi = pmd_index(addr);
  const pmdBits = pmdt.bits[pi];
  if (pmdBits === 0 && pmdt.pte[pi] === null && thp_vma_allowable_pmd(k, vma, addr)) {
    const ret = create_huge_pmd(k, vmf);
    if (!(ret & VM_FAULT.FALLBACK)) return ret;
  } else if (pmdBits & PTE.LEAF) {
    const write = (vmf.flags & (FAULT_FLAG.WRITE | FAULT_FLAG.UNSHARE)) !== 0;
    if (
      write &&
      !(
        pmdBits & PTE.WRITE ||
        (vmf.flags & FAULT_FLAG.UNSHARE && !needsUnsharePmd(k, vma, pmdt.pfn[pi], pmdBits))
      )
    ) {
      const ret = wp_huge_pmd(k, vmf);
      if (!(ret & VM_FAULT.FALLBACK)) return ret;
    } else {
      // huge_pmd_set_accessed()
      pmdt.bits[pi] |= PTE.YOUNG | (vmf.flags & FAULT_FLAG.WRITE ? PTE.DIRTY : 0);
      return 0;
    }
  }
  return handle_pte_fault(k, vmf);
}

/** An unshare fault on a PMD leaf has work only for a non-exclusive anon THP or the huge zero folio. */
function needsUnsharePmd(k: Kernel, vma: VmArea, pfn: number, bits: number): boolean {
  if (bits & PTE.SPECIAL) return is_cow_mapping(vma.vm_flags);
  return k.memmap.test(pfn, PG.anon) && !PageAnonExclusive(k, pfn);
}

/** handle_pte_fault() */
function handle_pte_fault(k: Kernel, vmf: VmFault): number {
  const { vma, address: addr } = vmf;
  const t = vma.vm_mm.pgtables.pteTable(addr, true)!;
  const i = pte_index(addr);
  const bits = t.bits[i];
  if (bits === 0) {
    if (vma.isAnonymous()) return do_anonymous_page(k, vmf, t, i);
    return do_fault(k, vmf, t, i);
  }
  if (!(bits & PTE.PRESENT)) {
    // swap / migration entries: the model migrates synchronously, so none persist
    return VM_FAULT.SIGBUS;
  }
  if (vmf.flags & (FAULT_FLAG.WRITE | FAULT_FLAG.UNSHARE)) {
    if (!(bits & PTE.WRITE)) return do_wp_page(k, vmf, t, i);
    if (vmf.flags & FAULT_FLAG.WRITE) t.bits[i] |= PTE.DIRTY;
  }
  t.bits[i] |= PTE.YOUNG;
  return 0;
}

/**
 * do_anonymous_page(): a read maps the shared zero page (special, read-only)
 * unless mm_forbids_zeropage(); a write allocates a zeroed exclusive anon page.
 */
function do_anonymous_page(k: Kernel, vmf: VmFault, t: PteTable, i: number): number {
  const vma = vmf.vma;
  if (vma.vm_flags & VM_SHARED) return VM_FAULT.SIGBUS;
  if (!(vmf.flags & FAULT_FLAG.WRITE)) {
    set_pte(t, i, k.zeroPfn, PTE.PRESENT | PTE.SPECIAL | PTE.YOUNG);
    k.trace.emit("fault_zero_page", "mm/memory.c: do_anonymous_page()", {
      mm: vma.vm_mm.id,
      addr: vmf.address,
    });
    return 0;
  }
  anon_vma_prepare(k, vma);
  const folio = alloc_anon_folio(k);
  if (folio === NIL) return VM_FAULT.OOM;
  folio_add_new_anon_rmap(k, folio, vma, vmf.address, true, false);
  // dirty and writable only with VM_WRITE (a FOLL_FORCE fault may come without it)
  set_pte(t, i, folio, PTE.PRESENT | PTE.YOUNG | (vma.vm_flags & VM_WRITE ? PTE.WRITE | PTE.DIRTY : 0));
  k.trace.emit("fault_anon", "mm/memory.c: do_anonymous_page()", {
    mm: vma.vm_mm.id,
    addr: vmf.address,
    pfn: folio,
  });
  return 0;
}

/** do_fault(): file-backed (and shmem) VMAs. */
function do_fault(k: Kernel, vmf: VmFault, t: PteTable, i: number): number {
  const vma = vmf.vma;
  if (!vma.vm_ops) return VM_FAULT.SIGBUS;
  if (!(vmf.flags & FAULT_FLAG.WRITE)) return do_read_fault(k, vmf, t, i);
  if (!(vma.vm_flags & VM_SHARED)) return do_cow_fault(k, vmf, t, i);
  return do_shared_fault(k, vmf, t, i);
}

/** __do_fault(): ask the file system for the page-cache page (a reference for us). */
function __do_fault(vmf: VmFault): number {
  return vmf.vma.vm_ops!.fault(vmf);
}

/** finish_fault() → set_pte_range(): map the page-cache page. */
function map_file_page(k: Kernel, vmf: VmFault, t: PteTable, i: number, write: boolean): void {
  const vma = vmf.vma;
  const page = vmf.page;
  const folio = k.memmap.head(page);
  rmap_add_ptes(k, folio, page, 1, vma);
  let bits = PTE.PRESENT | PTE.YOUNG;
  // A shared writable mapping is mapped writable on a write fault only; read
  // faults map read-only so that the first write goes through page_mkwrite
  // (vma_wants_writenotify()). Without dirty tracking it may be writable at once.
  if (write) bits = maybe_mkwrite(bits | PTE.DIRTY, vma);
  else if (vma.vm_flags & VM_SHARED && !vma_wants_writenotify(vma)) bits = maybe_mkwrite(bits, vma);
  set_pte(t, i, page, bits);
}

/** vma_wants_writenotify(): shared writable mappings of files that track dirtying. */
export function vma_wants_writenotify(vma: VmArea): boolean {
  if ((vma.vm_flags & (VM_WRITE | VM_SHARED)) !== (VM_WRITE | VM_SHARED)) return false;
  if (vma.vm_ops?.page_mkwrite || vma.vm_ops?.pfn_mkwrite) return true;
  return vma.vm_file?.canWriteback ?? false;
}

function do_read_fault(k: Kernel, vmf: VmFault, t: PteTable, i: number): number {
  const ret = __do_fault(vmf);
  if (ret) return ret;
  map_file_page(k, vmf, t, i, false);
  return 0;
}

/** do_cow_fault(): a write to a private file mapping copies the page-cache page into a new anon page. */
function do_cow_fault(k: Kernel, vmf: VmFault, t: PteTable, i: number): number {
  const vma = vmf.vma;
  anon_vma_prepare(k, vma);
  const ret = __do_fault(vmf);
  if (ret) return ret;
  const src = vmf.page;
  const folio = alloc_anon_folio(k);
  if (folio === NIL) {
    folio_put(k, k.memmap.head(src));
    return VM_FAULT.OOM;
  }
  folio_copy_content(k, folio, src, 1);
  folio_put(k, k.memmap.head(src));
  folio_add_new_anon_rmap(k, folio, vma, vmf.address, true, false);
  set_pte(t, i, folio, maybe_mkwrite(PTE.PRESENT | PTE.DIRTY | PTE.YOUNG, vma));
  k.vmstat.cow_copy++;
  k.trace.emit("cow_copy", "mm/memory.c: do_cow_fault()", {
    mm: vma.vm_mm.id,
    addr: vmf.address,
    from: src,
    to: folio,
  });
  return 0;
}

/** do_shared_fault(): page_mkwrite, then map writable and dirty. */
function do_shared_fault(k: Kernel, vmf: VmFault, t: PteTable, i: number): number {
  const ret = __do_fault(vmf);
  if (ret) return ret;
  const ops = vmf.vma.vm_ops!;
  if (ops.page_mkwrite) {
    // do_page_mkwrite(): an error, or NOPAGE when the folio was truncated meanwhile
    const r = ops.page_mkwrite(vmf);
    if (r & (VM_FAULT_ERROR | VM_FAULT.NOPAGE)) {
      folio_put(k, k.memmap.head(vmf.page));
      return r & VM_FAULT_ERROR;
    }
  }
  map_file_page(k, vmf, t, i, true);
  folio_mark_dirty_for_mapping(k, k.memmap.head(vmf.page));
  return 0;
}

/** fault_dirty_shared_page(): the file system's ->dirty_folio through folio_mark_dirty(). */
function folio_mark_dirty_for_mapping(k: Kernel, folio: number): void {
  folio_mark_dirty(k, folio);
}

// --- do_wp_page: write faults on present read-only PTEs, and unshare ------------

/**
 * do_wp_page(): FAULT_FLAG_WRITE on a read-only PTE, or FAULT_FLAG_UNSHARE
 * (GUP's R/O pin of a possibly shared anon page). Exclusive anon pages are
 * reused; anon pages nobody else references are reused
 * (wp_can_reuse_anon_folio()); everything else is copied.
 */
function do_wp_page(k: Kernel, vmf: VmFault, t: PteTable, i: number): number {
  const unshare = (vmf.flags & FAULT_FLAG.UNSHARE) !== 0;
  const vma = vmf.vma;
  const page = vm_normal_page(vma, t.bits[i], t.pfn[i]);
  const folio = page === NIL ? NIL : k.memmap.head(page);
  if (vma.vm_flags & (VM_SHARED | VM_MAYSHARE)) {
    if (unshare) return 0;
    if (page === NIL) {
      // wp_pfn_shared()
      t.bits[i] |= PTE.WRITE | PTE.DIRTY | PTE.YOUNG;
      return 0;
    }
    return wp_page_shared(k, vmf, t, i, folio);
  }
  if (
    folio !== NIL &&
    folio_test_anon(k, folio) &&
    (PageAnonExclusive(k, page) || wp_can_reuse_anon_folio(k, folio, vma))
  ) {
    if (!PageAnonExclusive(k, page)) k.memmap.set(page, PG.anon_exclusive);
    if (unshare) return 0;
    // wp_page_reuse()
    t.bits[i] = maybe_mkwrite(t.bits[i] | PTE.DIRTY | PTE.YOUNG, vma);
    k.trace.emit("cow_reuse", "mm/memory.c: do_wp_page()", {
      mm: vma.vm_mm.id,
      addr: vmf.address,
      pfn: page,
    });
    return 0;
  }
  return wp_page_copy(k, vmf, t, i, page);
}

/**
 * wp_can_reuse_anon_folio(): a small anon folio is reused when ours is the
 * only reference (refcount == 1; KSM never). A PTE-mapped large folio is
 * reused when all its references are mappings of this mm
 * (__wp_can_reuse_large_anon_folio()). Pins count as references, so a
 * pinned non-exclusive page is never reused.
 */
function wp_can_reuse_anon_folio(k: Kernel, folio: number, vma: VmArea): boolean {
  if (folio_test_large(k, folio)) {
    const mapcount = folio_large_mapcount(k, folio);
    if (mapcount <= 1) return false;
    if (mapcount !== folio_ref_count(k, folio)) return false;
    // folio_test_large_maybe_mapped_shared(): any mapping, at any level, from another mm
    let otherMm = false;
    rmap_walk(k, folio, (v, addr, _first, nr) => {
      if (v.vm_mm === vma.vm_mm) return;
      for (let j = 0; j < nr && !otherMm; j++) {
        const w = walk_addr(v.vm_mm, addr + j * PAGE_SIZE);
        if (w.level !== LEVEL_NONE && w.bits & PTE.PRESENT && k.memmap.head(w.pfn) === folio) otherMm = true;
      }
    });
    if (otherMm) return false;
    folio_move_anon_rmap(k, folio, vma);
    return true;
  }
  if (k.memmap.test(folio, PG.ksm) || folio_ref_count(k, folio) > 3) return false;
  if (folio_ref_count(k, folio) !== 1) return false;
  folio_move_anon_rmap(k, folio, vma);
  return true;
}

/** wp_page_shared(): page_mkwrite, then make the PTE writable and dirty the folio. */
function wp_page_shared(k: Kernel, vmf: VmFault, t: PteTable, i: number, folio: number): number {
  const ops = vmf.vma.vm_ops;
  if (ops?.page_mkwrite) {
    vmf.page = t.pfn[i];
    folio_get(k, folio);
    const r = ops.page_mkwrite(vmf);
    folio_put(k, folio);
    if (r & (VM_FAULT_ERROR | VM_FAULT.NOPAGE)) return r & VM_FAULT_ERROR;
  }
  t.bits[i] |= PTE.WRITE | PTE.DIRTY | PTE.YOUNG;
  folio_mark_dirty_for_mapping(k, folio);
  return 0;
}

/**
 * wp_page_copy(): break COW. Allocate a new exclusive anon page (zeroed if
 * the old one was the zero page), copy, and map it writable — or, for an
 * unshare fault, read-only but exclusive.
 */
function wp_page_copy(k: Kernel, vmf: VmFault, t: PteTable, i: number, oldPage: number): number {
  const vma = vmf.vma;
  const unshare = (vmf.flags & FAULT_FLAG.UNSHARE) !== 0;
  anon_vma_prepare(k, vma);
  const newFolio = alloc_anon_folio(k);
  if (newFolio === NIL) return VM_FAULT.OOM;
  if (oldPage !== NIL) folio_copy_content(k, newFolio, oldPage, 1);
  else k.memmap.setContent(newFolio, k.memmap.content(t.pfn[i]));
  folio_add_new_anon_rmap(k, newFolio, vma, vmf.address, true, false);
  let bits = PTE.PRESENT | PTE.YOUNG;
  if (!unshare) bits = maybe_mkwrite(bits | PTE.DIRTY, vma);
  const oldPfn = t.pfn[i];
  set_pte(t, i, newFolio, bits);
  if (oldPage !== NIL) {
    const oldFolio = k.memmap.head(oldPage);
    folio_remove_rmap_ptes(k, oldFolio, oldPage, 1, vma);
    folio_put(k, oldFolio);
  }
  k.vmstat.cow_copy++;
  k.trace.emit(unshare ? "unshare_copy" : "cow_copy", "mm/memory.c: wp_page_copy()", {
    mm: vma.vm_mm.id,
    addr: vmf.address,
    from: oldPfn,
    to: newFolio,
  });
  return 0;
}

// --- zapping ----------------------------------------------------------------------

/**
 * zap_page_range_single() / unmap_page_range(): remove the mappings of
 * [start, end) in vma. Pages lose their mapcount and the mapping's reference;
 * a pinned page is not freed — the pin keeps it alive, unmapped (P8).
 */
export function zap_page_range(k: Kernel, vma: VmArea, start: number, end: number): void {
  if (vma.isHugetlb()) {
    zap_hugetlb_range(k, vma, start, end);
    return;
  }
  const mm = vma.vm_mm;
  let addr = start;
  while (addr < end) {
    const pmdEnd = Math.min(end, (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE);
    const pmdt = mm.pgtables.pmdTable(addr, false);
    if (pmdt) {
      const pi = pmd_index(addr);
      if (pmdt.bits[pi] & PTE.LEAF) {
        const haddr = Math.floor(addr / PMD_SIZE) * PMD_SIZE;
        if (addr === haddr && pmdEnd === haddr + PMD_SIZE) {
          zap_huge_pmd(k, vma, pmdt, pi);
          addr = pmdEnd;
          continue;
        }
        __split_huge_pmd(k, vma, haddr);
      }
      const t = pmdt.pte[pi];
      if (t) {
        for (let a = addr; a < pmdEnd; a += PAGE_SIZE) zap_pte(k, vma, t, pte_index(a));
        if (t.used === 0 && addr % PMD_SIZE === 0 && pmdEnd % PMD_SIZE === 0)
          mm.pgtables.freePteTable(pmdt, pi);
      }
    }
    addr = pmdEnd;
  }
}

function zap_pte(k: Kernel, vma: VmArea, t: PteTable, i: number): void {
  const bits = t.bits[i];
  if (bits === 0) return;
  const pfn = t.pfn[i];
  set_pte(t, i, 0, 0);
  if (!(bits & PTE.PRESENT)) return;
  const page = vm_normal_page(vma, bits, pfn);
  if (page === NIL) return;
  const folio = k.memmap.head(page);
  // zap_present_folio_ptes(): a dirty PTE dirties a file folio
  if (bits & PTE.DIRTY && !folio_test_anon(k, folio)) folio_mark_dirty(k, folio);
  folio_remove_rmap_ptes(k, folio, page, 1, vma);
  if (folio_maybe_dma_pinned(k, folio) && k.trace.enabled)
    k.trace.emit("zap_pinned", "mm/memory.c: zap_present_ptes()", { mm: vma.vm_mm.id, pfn: page });
  folio_put(k, folio);
}

/**
 * unmap_mapping_pages(): zap every mapping of file pages [first, last] of an
 * address_space, leaving private COW copies (anon pages) alone, as a hole
 * punch does (mm/truncate.ts has the even_cows variant truncate uses).
 */
export function unmap_mapping_pages(k: Kernel, mappingId: number, first: number, last: number): void {
  const as = k.mappings.get(mappingId);
  if (!as) return;
  for (const vma of [...as.i_mmap]) {
    const vstart = vma.vm_pgoff;
    const vend = vma.vm_pgoff + vma.pages() - 1;
    const zs = Math.max(first, vstart);
    const ze = Math.min(last, vend);
    if (zs > ze) continue;
    const start = vma.vm_start + (zs - vstart) * PAGE_SIZE;
    const end = vma.vm_start + (ze - vstart + 1) * PAGE_SIZE;
    if (vma.isHugetlb()) {
      zap_page_range(k, vma, start, end);
      continue;
    }
    // keep private anon COW copies: only zap PTEs mapping non-anon pages
    zapFilePagesOnly(k, vma, start, end);
  }
}

function zapFilePagesOnly(k: Kernel, vma: VmArea, start: number, end: number): void {
  const mm = vma.vm_mm;
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    const pmdt = mm.pgtables.pmdTable(addr, false);
    if (!pmdt) continue;
    const pi = pmd_index(addr);
    if (pmdt.bits[pi] & PTE.LEAF) {
      __split_huge_pmd(k, vma, Math.floor(addr / PMD_SIZE) * PMD_SIZE);
    }
    const t = pmdt.pte[pi];
    if (!t) continue;
    const i = pte_index(addr);
    const bits = t.bits[i];
    if (!(bits & PTE.PRESENT)) continue;
    const page = vm_normal_page(vma, bits, t.pfn[i]);
    if (page !== NIL && folio_test_anon(k, k.memmap.head(page))) continue;
    zap_pte(k, vma, t, i);
  }
}

// --- fork: copy_page_range -----------------------------------------------------------

/** vma_needs_copy(): only VMAs with anon pages, PFN maps or uffd-wp need their page tables copied. */
function vma_needs_copy(dst: VmArea, src: VmArea): boolean {
  void dst;
  if (src.vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return true;
  return src.anon_vma !== null;
}

/**
 * copy_page_range(): duplicate the parent's page tables of src into dst
 * (the child's VMA) at fork. COW mappings are write-protected in both; an
 * exclusive anon page that may be pinned is copied for the child at once
 * (copy_present_page()), so the pin keeps referring to the parent's page.
 * Returns 0 or -ENOMEM.
 */
export function copy_page_range(k: Kernel, dst: VmArea, src: VmArea): number {
  if (!vma_needs_copy(dst, src)) return 0;
  if (src.isHugetlb()) return copy_hugetlb_page_range(k, dst, src);
  const srcMm = src.vm_mm;
  let addr = src.vm_start;
  while (addr < src.vm_end) {
    const next = Math.min(src.vm_end, (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE);
    const spmd = srcMm.pgtables.pmdTable(addr, false);
    if (spmd) {
      const pi = pmd_index(addr);
      if (spmd.bits[pi] & PTE.LEAF) {
        const r = copy_huge_pmd(k, dst, src, addr);
        if (r === 0) {
          addr = next;
          continue;
        }
        if (r !== -11 /* -EAGAIN: the PMD was split, copy its PTEs */) return r;
      }
      const st = spmd.pte[pi];
      if (st) {
        const r = copy_pte_range(k, dst, src, st, addr, next);
        if (r < 0) return r;
      }
    }
    addr = next;
  }
  return 0;
}

function copy_pte_range(
  k: Kernel,
  dst: VmArea,
  src: VmArea,
  st: PteTable,
  start: number,
  end: number,
): number {
  const dt = dst.vm_mm.pgtables.pteTable(start, true)!;
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    const i = pte_index(addr);
    const bits = st.bits[i];
    if (bits === 0) continue;
    if (!(bits & PTE.PRESENT)) {
      set_pte(dt, i, st.pfn[i], bits);
      continue;
    }
    const r = copy_present_pte(k, dst, src, st, dt, i, addr);
    if (r < 0) return r;
  }
  return 0;
}

/** copy_present_ptes() for one PTE (the model does not batch). */
function copy_present_pte(
  k: Kernel,
  dst: VmArea,
  src: VmArea,
  st: PteTable,
  dt: PteTable,
  i: number,
  addr: number,
): number {
  let bits = st.bits[i];
  const pfn = st.pfn[i];
  const page = vm_normal_page(src, bits, pfn);
  if (page !== NIL) {
    const folio = k.memmap.head(page);
    if (folio_test_anon(k, folio)) {
      // folio_try_dup_anon_rmap_pte(): a maybe-pinned exclusive page may not be shared
      if (PageAnonExclusive(k, page) && folio_needs_cow_for_dma(k, src, folio)) {
        return copy_present_page(k, dst, src, dt, i, addr, page);
      }
      k.memmap.clear(page, PG.anon_exclusive);
    }
    folio_get(k, folio);
    rmap_add_ptes(k, folio, page, 1, dst);
  }
  // __copy_present_ptes(): COW mappings are write-protected in both processes
  if (is_cow_mapping(src.vm_flags) && bits & PTE.WRITE) {
    st.bits[i] &= ~PTE.WRITE;
    bits &= ~PTE.WRITE;
  }
  if (src.vm_flags & VM_SHARED) bits &= ~PTE.DIRTY;
  bits &= ~PTE.YOUNG;
  set_pte(dt, i, pfn, bits);
  return 0;
}

/** include/linux/mm.h: folio_needs_cow_for_dma() — only mms that ever pinned (MMF_HAS_PINNED). */
export function folio_needs_cow_for_dma(k: Kernel, vma: VmArea, folio: number): boolean {
  if (!vma.vm_mm.hasPinned()) return false;
  return folio_maybe_dma_pinned(k, folio);
}

/**
 * copy_present_page(): the child gets its own copy of a maybe-pinned
 * exclusive anon page, mapped writable and dirty; the parent keeps the
 * pinned page untouched and writable.
 */
function copy_present_page(
  k: Kernel,
  dst: VmArea,
  src: VmArea,
  dt: PteTable,
  i: number,
  addr: number,
  page: number,
): number {
  anon_vma_prepare(k, dst);
  const nf = alloc_anon_folio(k);
  if (nf === NIL) return -12; // -ENOMEM
  folio_copy_content(k, nf, page, 1);
  folio_add_new_anon_rmap(k, nf, dst, addr, true, false);
  set_pte(dt, i, nf, maybe_mkwrite(PTE.PRESENT | PTE.DIRTY, dst));
  k.vmstat.fork_copy_pinned++;
  k.trace.emit("fork_copy_pinned", "mm/memory.c: copy_present_page()", {
    parent: src.vm_mm.id,
    child: dst.vm_mm.id,
    addr,
    pinned: page,
    copy: nf,
  });
  return 0;
}

export { set_pte };
