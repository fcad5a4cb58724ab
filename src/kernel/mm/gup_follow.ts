/**
 * The slow-path page-table walk of GUP (mm/gup.c): follow_page_mask() and
 * its per-level helpers — no_page_table(), follow_page_pte(),
 * follow_huge_pmd(), follow_huge_pud() — and the can_follow_write_*()
 * rules. A follow answers with the grabbed page (its pfn), FOLLOW_NULL
 * ("fault it in"), or -errno (-EMLINK_INTERNAL: "unshare first").
 */
import { EEXIST, EFAULT } from "../include/errno.js";
import {
  FOLL_DUMP,
  FOLL_FORCE,
  FOLL_HONOR_NUMA_FAULT,
  FOLL_SPLIT_PMD,
  FOLL_TOUCH,
  FOLL_WRITE,
} from "../include/foll_flags.js";
import { HPAGE_PMD_NR, HPAGE_PUD_NR, PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import {
  VM_EXEC,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_UFFD_WP,
  VM_WRITE,
} from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { inode_by_id } from "../fs/inode.js";
import { page_cache_lookup } from "./filemap.js";
import { PageAnonExclusive } from "./folio.js";
import { gup_must_unshare, try_grab_folio } from "./gup_refs.js";
import { __split_huge_pmd } from "./huge_memory.js";
import { hugetlb_vma } from "./hugetlb_fault.js";
import { vm_normal_page } from "./memory.js";
import { NIL } from "./memmap.js";
import type { VmArea } from "./mm_types.js";
import { folio_mark_dirty } from "./page_writeback.js";
import { PMD_SIZE, pgd_index, pmd_index, type PmdTable, pte_index, pud_index } from "./pgtable.js";

/** vma_is_accessible(): any of read, write, exec. */
export function vma_is_accessible(vma: VmArea): boolean {
  return (vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
}

/** follow_page_mask() found no usable entry: a fault is needed (the kernel's NULL). */
export const FOLLOW_NULL = -0x40000000;

/**
 * -EMLINK: "unshare first", follow_page_mask()'s internal answer
 * (include/uapi/asm-generic/errno-base.h: EMLINK = 31); never returned to callers.
 */
export const EMLINK_INTERNAL = 31;

/**
 * The page_mask output of follow_page_mask() (0, HPAGE_PMD_NR - 1 or
 * HPAGE_PUD_NR - 1), a live binding for __get_user_pages(): the model's
 * `unsigned long *page_mask` without an allocation per call.
 */
export let pageMask = 0;

/** gup_can_follow_protnone(): honour NUMA hints only if asked, and only in accessible VMAs. */
function gup_can_follow_protnone(vma: VmArea, flags: number): boolean {
  if (!(flags & FOLL_HONOR_NUMA_FAULT)) return true;
  return !vma_is_accessible(vma);
}

/**
 * can_follow_write_common(): a FOLL_FORCE write through a read-only entry
 * of a private, may-write, not-writable VMA is allowed only on an exclusive
 * anonymous page — COW has been broken for this mm ([WR-2]; the 6.0 fix of
 * CVE-2022-2590 that replaced FOLL_COW).
 */
function can_follow_write_common(k: Kernel, page: number, vma: VmArea, flags: number): boolean {
  if (!(flags & FOLL_FORCE)) return false;
  if (vma.vm_flags & (VM_MAYSHARE | VM_SHARED)) return false;
  if (!(vma.vm_flags & VM_MAYWRITE)) return false;
  if (vma.vm_flags & VM_WRITE) return false;
  return page !== NIL && k.memmap.test(k.memmap.head(page), PG.anon) && PageAnonExclusive(k, page);
}

/**
 * can_follow_write_pte() / _pmd(): a writable entry, or [WR-2] plus [WR-3]:
 * no write fault needed for uffd-wp. Soft-dirty write-protection
 * (pte_needs_soft_dirty_wp()) needs CONFIG_MEM_SOFT_DIRTY, which the
 * reference kernel lacks and the model does not have.
 */
function can_follow_write_pte(k: Kernel, bits: number, page: number, vma: VmArea, flags: number): boolean {
  if (bits & PTE.WRITE) return true;
  if (!can_follow_write_common(k, page, vma, flags)) return false;
  return !(vma.vm_flags & VM_UFFD_WP && bits & PTE.UFFD_WP);
}

/**
 * no_page_table() ([WALK-1]): NULL (fault it in), except that a core dump
 * (FOLL_DUMP) gets -EFAULT where a fault would only produce zeroes: a
 * hugetlb VMA without a page-cache folio at the index, an anonymous VMA, or
 * a VMA without ->fault.
 */
function no_page_table(k: Kernel, vma: VmArea, flags: number, address: number): number {
  if (!(flags & FOLL_DUMP)) return FOLLOW_NULL;
  if (vma.isHugetlb()) {
    if (!hugetlbfs_pagecache_present(k, vma, address)) return -EFAULT;
  } else if (vma.isAnonymous()) {
    return -EFAULT;
  }
  return FOLLOW_NULL;
}

/** hugetlbfs_pagecache_present(): the file's page cache holds the huge page at address. */
function hugetlbfs_pagecache_present(k: Kernel, vma: VmArea, address: number): boolean {
  if (!vma.vm_file) return false;
  const inode = inode_by_id(k, vma.vm_file.inodeId);
  if (!inode) return false;
  const size = hugetlb_vma(vma).h.sizeBytes;
  const haddr = Math.floor(address / size) * size;
  return page_cache_lookup(inode.mapping, vma.pgoffOf(haddr)) !== NIL;
}

/**
 * follow_page_pte() ([PTE-1] … [PTE-8]): the page behind a PTE, grabbed
 * according to FOLL_GET/FOLL_PIN, or FOLLOW_NULL (fault needed), or -errno
 * (-EFAULT for core-dump holes, -EEXIST for a pfn without a struct page,
 * -EMLINK: unshare first).
 */
function follow_page_pte(
  k: Kernel,
  vma: VmArea,
  address: number,
  pmdt: PmdTable,
  mi: number,
  flags: number,
): number {
  const t = pmdt.pte[mi];
  if (!t) return no_page_table(k, vma, flags, address);
  const i = pte_index(address);
  const bits = t.bits[i];
  const pfn = t.pfn[i];
  if (!(bits & PTE.PRESENT) || (bits & PTE.PROTNONE && !gup_can_follow_protnone(vma, flags))) {
    // [PTE-1]/[PTE-2]: swap, migration, marker entries fault; an empty one is no_page_table()
    if (bits !== 0) return FOLLOW_NULL;
    return no_page_table(k, vma, flags, address);
  }
  let page = vm_normal_page(vma, bits, pfn);
  if (flags & FOLL_WRITE && !can_follow_write_pte(k, bits, page, vma, flags)) return FOLLOW_NULL; // [PTE-3]
  if (page === NIL) {
    // [PTE-4]
    if (flags & FOLL_DUMP) return -EFAULT;
    if (pfn === k.zeroPfn) {
      page = pfn;
    } else {
      // follow_pfn_pte()
      if (flags & FOLL_TOUCH) t.bits[i] = bits | PTE.YOUNG | (flags & FOLL_WRITE ? PTE.DIRTY : 0);
      return -EEXIST;
    }
  }
  const folio = k.memmap.head(page);
  if (!(bits & PTE.WRITE) && gup_must_unshare(k, vma, flags, page)) return -EMLINK_INTERNAL; // [PTE-5]
  const ret = try_grab_folio(k, folio, 1, flags); // [PTE-6]
  if (ret) return ret;
  // [PTE-7] arch_make_folio_accessible(): s390 secure guests only
  if (flags & FOLL_TOUCH) {
    // [PTE-8]
    if (flags & FOLL_WRITE && !(bits & PTE.DIRTY) && !k.memmap.test(folio, PG.dirty))
      folio_mark_dirty(k, folio);
    folio_mark_accessed(k, folio);
  }
  return page;
}

/** folio_mark_accessed(): referenced, then active on the second touch (mm/swap.c). */
function folio_mark_accessed(k: Kernel, folio: number): void {
  const mm = k.memmap;
  if (folio === k.zeroPfn) return;
  if (!mm.test(folio, PG.referenced)) mm.set(folio, PG.referenced);
  else if (!mm.test(folio, PG.active)) mm.set(folio, PG.active);
}

/**
 * follow_huge_pmd() ([PMD-1] … [PMD-5]): a PMD leaf — THP, 2 MiB hugetlb,
 * the huge zero folio. No special-entry filter: the huge zero folio is
 * returned and grabbed like any large folio ([ZERO-2]). page_mask = 511.
 */
function follow_huge_pmd(
  k: Kernel,
  vma: VmArea,
  address: number,
  pmdt: PmdTable,
  mi: number,
  flags: number,
): number {
  const bits = pmdt.bits[mi];
  const head = pmdt.pfn[mi];
  if (flags & FOLL_WRITE && !can_follow_write_pte(k, bits, head, vma, flags)) return FOLLOW_NULL; // [PMD-1]
  if (flags & FOLL_DUMP && head === k.hugeZeroPfn) return -EFAULT; // [PMD-2]
  if (bits & PTE.PROTNONE && !gup_can_follow_protnone(vma, flags)) return FOLLOW_NULL;
  if (!(bits & PTE.WRITE) && gup_must_unshare(k, vma, flags, head)) return -EMLINK_INTERNAL; // [PMD-3]
  const ret = try_grab_folio(k, head, 1, flags); // [PMD-4]
  if (ret) return ret;
  // [PMD-5] touch_pmd(): pmd_trans_huge() is true for every x86 PSE leaf, hugetlb included
  if (flags & FOLL_TOUCH) pmdmi_touch(pmdt, mi, flags);
  pageMask = HPAGE_PMD_NR - 1;
  return head + (Math.floor(address / PAGE_SIZE) % HPAGE_PMD_NR);
}

function pmdmi_touch(pmdt: PmdTable, mi: number, flags: number): void {
  pmdt.bits[mi] |= PTE.YOUNG | (flags & FOLL_WRITE ? PTE.DIRTY : 0);
}

/**
 * follow_huge_pud(): a PUD leaf (1 GiB hugetlb). No FOLL_DUMP, PROT_NONE
 * or FOLL_TOUCH handling at this level ([HUGE-6]); page_mask = 262143.
 */
function follow_huge_pud(
  k: Kernel,
  vma: VmArea,
  address: number,
  bits: number,
  head: number,
  flags: number,
): number {
  if (!(bits & PTE.PRESENT)) return FOLLOW_NULL;
  if (flags & FOLL_WRITE && !(bits & PTE.WRITE) && !can_follow_write_common(k, head, vma, flags))
    return FOLLOW_NULL;
  const page = head + (Math.floor(address / PAGE_SIZE) % HPAGE_PUD_NR);
  if (!(bits & PTE.WRITE) && gup_must_unshare(k, vma, flags, page)) return -EMLINK_INTERNAL;
  const ret = try_grab_folio(k, head, 1, flags);
  if (ret) return ret;
  pageMask = HPAGE_PUD_NR - 1;
  return page;
}

/**
 * follow_page_mask(): the grabbed page mapped at address, FOLLOW_NULL, or
 * -errno; sets pageMask. Levels as [WALK-2] … [WALK-5].
 */
export function follow_page_mask(k: Kernel, vma: VmArea, address: number, flags: number): number {
  pageMask = 0;
  const pud = vma.vm_mm.pgtables.pgd[pgd_index(address)];
  if (!pud) return no_page_table(k, vma, flags, address);
  const ui = pud_index(address);
  const pudBits = pud.bits[ui];
  if (pudBits & PTE.LEAF) {
    if (!(pudBits & PTE.PRESENT)) return no_page_table(k, vma, flags, address);
    const page = follow_huge_pud(k, vma, address, pudBits, pud.pfn[ui], flags);
    return page === FOLLOW_NULL ? no_page_table(k, vma, flags, address) : page;
  }
  const pmdt = pud.pmd[ui];
  if (!pmdt) return no_page_table(k, vma, flags, address);
  const mi = pmd_index(address);
  const pbits = pmdt.bits[mi];
  if (!(pbits & PTE.LEAF)) {
    if (pbits !== 0) return no_page_table(k, vma, flags, address); // a non-present (migration) PMD
    return follow_page_pte(k, vma, address, pmdt, mi, flags);
  }
  if (!(pbits & PTE.PRESENT)) return no_page_table(k, vma, flags, address);
  if (pbits & PTE.PROTNONE && !gup_can_follow_protnone(vma, flags))
    return no_page_table(k, vma, flags, address);
  if (flags & FOLL_SPLIT_PMD && !vma.isHugetlb()) {
    // [WALK-5]: split the PMD *mapping* (not necessarily the folio), go on at PTE level
    __split_huge_pmd(k, vma, Math.floor(address / PMD_SIZE) * PMD_SIZE);
    return follow_page_pte(k, vma, address, pmdt, mi, flags);
  }
  return follow_huge_pmd(k, vma, address, pmdt, mi, flags);
}
