/**
 * Faults, COW, zap and fork copy on hugetlb VMAs (mm/hugetlb.c: hugetlb_fault(),
 * hugetlb_no_page(), hugetlb_wp(), copy_hugetlb_page_range(),
 * __unmap_hugepage_range()). A 2 MiB page is a PMD leaf, a 1 GiB page a PUD leaf.
 *
 * COW reuse on hugetlb is mapcount-based (P10): a folio mapped once is
 * reused even when others hold references to it — this is why FOLL_GET
 * users (vmsplice) can still observe later writes across fork on hugetlb.
 */
import { NONDET } from "../nondet.js";
import { FAULT_FLAG, VM_FAULT } from "../include/fault.js";
import { HPAGE_PUD_ORDER } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { is_cow_mapping, VM_SHARED, VM_MAYSHARE, VM_WRITE } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import {
  folio_copy_content,
  folio_get,
  folio_mapcount,
  folio_maybe_dma_pinned,
  folio_put,
  folio_nr_pages,
} from "./folio.js";
import { alloc_hugetlb_folio, type HState } from "./hugetlb.js";
import { NIL } from "./memmap.js";
import type { VmArea, VmFault } from "./mm_types.js";
import { PUD_SIZE, pgd_index, pmd_index, pud_index } from "./pgtable.js";
import {
  anon_vma_prepare,
  folio_add_new_anon_rmap,
  folio_remove_rmap_entire,
  rmap_add_entire,
  rmap_walk,
} from "./rmap.js";

/** Per-VMA hugetlb state: the HState and, for a private owner, unconsumed reservations. */
export interface HugetlbVma {
  h: HState;
  /** HPAGE_RESV_OWNER: huge-page indices (relative to the VMA) still reserved */
  resv: Set<number> | null;
  /** HPAGE_RESV_UNMAPPED: the owner stole this child's pages on COW; faults SIGBUS */
  unmapped: boolean;
}
const hvmas = new WeakMap<VmArea, HugetlbVma>();

export function hugetlb_vma(vma: VmArea): HugetlbVma {
  const hv = hvmas.get(vma);
  if (!hv) throw new Error("hugetlb VMA without hstate");
  return hv;
}
export function set_hugetlb_vma(vma: VmArea, hv: HugetlbVma): void {
  hvmas.set(vma, hv);
}

/**
 * vm_ops of private MAP_HUGETLB|MAP_ANONYMOUS memory (hugetlb_vm_ops on the
 * internal hugetlbfs file): pages are anonymous, ->fault is never used.
 */
export const hugetlb_private_anon_ops = {
  name: "hugetlbfs" as const,
  fault: (): number => VM_FAULT.SIGBUS,
};

/** The leaf entry for a huge page: its table arrays and index. */
interface HugeEntry {
  pfn: Uint32Array;
  bits: Uint16Array;
  i: number;
}

export function huge_pte_offset(vma: VmArea, addr: number, alloc: boolean): HugeEntry | null {
  const h = hugetlb_vma(vma).h;
  const pt = vma.vm_mm.pgtables;
  if (h.sizeBytes === PUD_SIZE) {
    const pud = pt.pudTable(addr, alloc);
    return pud ? { pfn: pud.pfn, bits: pud.bits, i: pud_index(addr) } : null;
  }
  const pmd = pt.pmdTable(addr, alloc);
  return pmd ? { pfn: pmd.pfn, bits: pmd.bits, i: pmd_index(addr) } : null;
}

function hugeAlign(vma: VmArea, addr: number): number {
  const size = hugetlb_vma(vma).h.sizeBytes;
  return Math.floor(addr / size) * size;
}

/** hugetlb_fault() */
export function hugetlb_fault(k: Kernel, vma: VmArea, address: number, flags: number): number {
  const hv = hugetlb_vma(vma);
  const haddr = hugeAlign(vma, address);
  const e = huge_pte_offset(vma, haddr, true)!;
  const vmf: VmFault = { vma, address: haddr, pgoff: vma.pgoffOf(haddr), flags, page: NIL };
  if (e.bits[e.i] === 0) {
    if (hv.unmapped) return VM_FAULT.SIGBUS;
    const r = hugetlb_no_page(k, vmf, e);
    if (r) return r;
  }
  if (flags & (FAULT_FLAG.WRITE | FAULT_FLAG.UNSHARE) && !(e.bits[e.i] & PTE.WRITE)) {
    if (!(vma.vm_flags & VM_SHARED)) return hugetlb_wp(k, vmf, e);
    if (flags & FAULT_FLAG.UNSHARE) return 0;
    e.bits[e.i] |= PTE.WRITE;
  }
  e.bits[e.i] |= PTE.YOUNG | (flags & FAULT_FLAG.WRITE ? PTE.DIRTY : 0);
  return 0;
}

/**
 * hugetlb_no_page(): shared mappings get the page-cache folio of the
 * hugetlbfs inode (via ->fault); private ones a new anon folio, from the
 * VMA owner's reservation if it has one. An empty pool is SIGBUS.
 */
function hugetlb_no_page(k: Kernel, vmf: VmFault, e: HugeEntry): number {
  const vma = vmf.vma;
  const hv = hugetlb_vma(vma);
  if (vma.vm_flags & VM_MAYSHARE) {
    const r = vma.vm_ops!.fault(vmf);
    if (r) return r;
    const folio = vmf.page;
    rmap_add_entire(k, folio, vma);
    e.pfn[e.i] = folio;
    e.bits[e.i] = PTE.PRESENT | PTE.LEAF | PTE.YOUNG | (vma.vm_flags & VM_WRITE ? PTE.WRITE | PTE.DIRTY : 0);
    return 0;
  }
  // a private mapping of a hugetlbfs file first maps the file's folio read-only
  // (filemap_lock_hugetlb_folio()); the write fault then copies it
  const cached = vma.vm_file ? k.mappings.get(vma.vm_file.inodeId)?.i_pages.get(vmf.pgoff) : undefined;
  if (cached !== undefined) {
    folio_get(k, cached);
    rmap_add_entire(k, cached, vma);
    e.pfn[e.i] = cached;
    e.bits[e.i] = PTE.PRESENT | PTE.LEAF | PTE.YOUNG;
    return 0;
  }
  const idx = (vmf.address - vma.vm_start) / hv.h.sizeBytes;
  const useReserve = hv.resv !== null && hv.resv.has(idx);
  const folio = alloc_hugetlb_folio(k, hv.h, useReserve);
  if (folio === NIL) {
    k.trace.emit("hugetlb_no_page_sigbus", "mm/hugetlb.c: hugetlb_no_page()", {
      mm: vma.vm_mm.id,
      addr: vmf.address,
    });
    return VM_FAULT.SIGBUS;
  }
  if (useReserve) hv.resv!.delete(idx);
  for (let p = folio; p < folio + folio_nr_pages(k, folio); p++) k.memmap.setContent(p, 0);
  anon_vma_prepare(k, vma);
  folio_add_new_anon_rmap(k, folio, vma, vmf.address, true, true);
  e.pfn[e.i] = folio;
  // private mappings are mapped read-only first; the write fault reuses the exclusive folio
  e.bits[e.i] = PTE.PRESENT | PTE.LEAF | PTE.YOUNG;
  k.trace.emit("fault_hugetlb", "mm/hugetlb.c: hugetlb_no_page()", {
    mm: vma.vm_mm.id,
    addr: vmf.address,
    pfn: folio,
  });
  return 0;
}

/**
 * hugetlb_wp(): COW or unshare of a private hugetlb page. An anon folio
 * mapped exactly once is reused (mapcount, not refcount: P10). Otherwise a
 * copy is made from the free pool beyond reservations; if the owner of the
 * reservation cannot get one, the page is taken from the children
 * (unmap_ref_private()) and reused.
 */
function hugetlb_wp(k: Kernel, vmf: VmFault, e: HugeEntry): number {
  const vma = vmf.vma;
  const hv = hugetlb_vma(vma);
  const unshare = (vmf.flags & FAULT_FLAG.UNSHARE) !== 0;
  const old = e.pfn[e.i];
  if (folio_mapcount(k, old) === 1 && k.memmap.test(old, PG.anon)) {
    if (!k.memmap.test(old, PG.anon_exclusive)) {
      if (vma.anon_vma) k.memmap.setMapping(old, vma.anon_vma.id);
      k.memmap.set(old, PG.anon_exclusive);
    }
    if (!unshare) e.bits[e.i] |= (vma.vm_flags & VM_WRITE ? PTE.WRITE : 0) | PTE.DIRTY;
    return 0;
  }
  // COW of the file's folio in a private mapping uses the owner's reservation; a COW
  // of an anon folio shared with a child must come from outside it (hugetlb_wp())
  const idx = (vmf.address - vma.vm_start) / hv.h.sizeBytes;
  const fromReserve = !k.memmap.test(old, PG.anon) && hv.resv !== null && hv.resv.has(idx);
  const nf = alloc_hugetlb_folio(k, hv.h, fromReserve);
  if (nf !== NIL && fromReserve) hv.resv!.delete(idx);
  if (nf === NIL) {
    if (hv.resv !== null && k.memmap.test(old, PG.anon)) {
      unmap_ref_private(k, vma, old, vmf.address);
      if (folio_mapcount(k, old) === 1) return hugetlb_wp(k, vmf, e);
    }
    return VM_FAULT.SIGBUS;
  }
  folio_copy_content(k, nf, old, folio_nr_pages(k, old));
  anon_vma_prepare(k, vma);
  folio_add_new_anon_rmap(k, nf, vma, vmf.address, true, true);
  folio_remove_rmap_entire(k, old, vma);
  folio_put(k, old);
  e.pfn[e.i] = nf;
  e.bits[e.i] =
    PTE.PRESENT |
    PTE.LEAF |
    PTE.YOUNG |
    (unshare ? 0 : (vma.vm_flags & VM_WRITE ? PTE.WRITE : 0) | PTE.DIRTY);
  k.vmstat.cow_copy++;
  k.trace.emit(unshare ? "unshare_copy" : "cow_copy", "mm/hugetlb.c: hugetlb_wp()", {
    mm: vma.vm_mm.id,
    addr: vmf.address,
    from: old,
    to: nf,
  });
  return 0;
}

/** unmap_ref_private(): the reservation owner takes the page back from every other mapper. */
function unmap_ref_private(k: Kernel, owner: VmArea, folio: number, addr: number): void {
  rmap_walk(k, folio, (vma, a) => {
    if (vma === owner) return;
    const e = huge_pte_offset(vma, a, false);
    if (!e || e.pfn[e.i] !== folio || !(e.bits[e.i] & PTE.PRESENT)) return;
    e.bits[e.i] = 0;
    e.pfn[e.i] = 0;
    folio_remove_rmap_entire(k, folio, vma);
    folio_put(k, folio);
    hugetlb_vma(vma).unmapped = true;
    k.trace.emit("hugetlb_unmap_ref_private", "mm/hugetlb.c: unmap_ref_private()", {
      mm: vma.vm_mm.id,
      addr: a,
    });
  });
  void addr;
}

/** __unmap_hugepage_range() */
export function zap_hugetlb_range(k: Kernel, vma: VmArea, start: number, end: number): void {
  const size = hugetlb_vma(vma).h.sizeBytes;
  for (let a = hugeAlign(vma, start); a < end; a += size) {
    const e = huge_pte_offset(vma, a, false);
    if (!e || !(e.bits[e.i] & PTE.PRESENT)) continue;
    const folio = e.pfn[e.i];
    if (e.bits[e.i] & PTE.DIRTY && !k.memmap.test(folio, PG.anon)) k.memmap.set(folio, PG.dirty);
    e.bits[e.i] = 0;
    e.pfn[e.i] = 0;
    folio_remove_rmap_entire(k, folio, vma);
    folio_put(k, folio);
  }
}

/**
 * copy_hugetlb_page_range(): share hugetlb pages with the child, write-
 * protected for COW mappings; an exclusive anon folio that may be pinned
 * is copied for the child, and fork fails with -ENOMEM when the pool has
 * no page for the copy.
 */
export function copy_hugetlb_page_range(k: Kernel, dst: VmArea, src: VmArea): number {
  const h = hugetlb_vma(src).h;
  const cow = is_cow_mapping(src.vm_flags);
  /** PUD tables of the child that look shared (see NONDET.hugetlbPudTableLooksShared) */
  const looksShared = new Map<number, boolean>();
  for (let a = src.vm_start; a < src.vm_end; a += h.sizeBytes) {
    const se = huge_pte_offset(src, a, false);
    if (!se || !(se.bits[se.i] & PTE.PRESENT)) continue;
    if (h.order === HPAGE_PUD_ORDER) {
      // one PUD table per PGD entry (512 GiB): the choice is per table, made when first met
      const table = pgd_index(a);
      if (!looksShared.has(table)) {
        const skip = k.nondet.take(NONDET.hugetlbPudTableLooksShared);
        looksShared.set(table, skip);
        if (skip)
          k.trace.emit("fork_hugetlb_table_skipped", "mm/hugetlb.c: copy_hugetlb_page_range()", {
            parent: src.vm_mm.id,
            child: dst.vm_mm.id,
            addr: a,
          });
      }
      if (looksShared.get(table)) continue;
    }
    const folio = se.pfn[se.i];
    const de = huge_pte_offset(dst, a, true)!;
    if (k.memmap.test(folio, PG.anon) && k.memmap.test(folio, PG.anon_exclusive)) {
      if (src.vm_mm.hasPinned() && folio_maybe_dma_pinned(k, folio)) {
        const nf = alloc_hugetlb_folio(k, h, false);
        if (nf === NIL) {
          k.trace.emit("fork_hugetlb_enomem", "mm/hugetlb.c: copy_hugetlb_page_range()", {
            mm: src.vm_mm.id,
            addr: a,
          });
          return -12; // -ENOMEM
        }
        folio_copy_content(k, nf, folio, folio_nr_pages(k, folio));
        anon_vma_prepare(k, dst);
        folio_add_new_anon_rmap(k, nf, dst, a, true, true);
        de.pfn[de.i] = nf;
        de.bits[de.i] = se.bits[se.i] & ~PTE.YOUNG;
        k.vmstat.fork_copy_pinned++;
        k.trace.emit("fork_copy_pinned", "mm/hugetlb.c: copy_hugetlb_page_range()", {
          parent: src.vm_mm.id,
          child: dst.vm_mm.id,
          addr: a,
          pinned: folio,
          copy: nf,
        });
        continue;
      }
      k.memmap.clear(folio, PG.anon_exclusive);
    }
    folio_get(k, folio);
    rmap_add_entire(k, folio, dst);
    let bits = se.bits[se.i] & ~PTE.YOUNG;
    if (cow) {
      se.bits[se.i] &= ~PTE.WRITE;
      bits &= ~PTE.WRITE;
    }
    de.pfn[de.i] = folio;
    de.bits[de.i] = bits;
  }
  return 0;
}
