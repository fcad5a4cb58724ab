/**
 * MADV_COLLAPSE (mm/khugepaged.c: madvise_collapse(), hpage_collapse_scan_pmd(),
 * collapse_huge_page()): synchronously replace the small pages of each 2 MiB
 * range by one THP. A page with unexpected references — a pin — makes the
 * range fail with SCAN_PAGE_COUNT, reported as -EAGAIN (P6).
 */
import { EAGAIN, EINVAL, ENOMEM } from "../include/errno.js";
import { __GFP_ZERO, GFP_TRANSHUGE } from "../include/gfp.js";
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { VM_NOHUGEPAGE, VM_SPECIAL } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { folio_expected_ref_count, folio_maybe_dma_pinned, folio_put, folio_ref_count } from "./folio.js";
import { maybe_mkwrite } from "./memory.js";
import { NIL } from "./memmap.js";
import type { MmStruct, VmArea } from "./mm_types.js";
import { PMD_SIZE, pmd_index } from "./pgtable.js";
import { anon_vma_prepare, folio_add_new_anon_rmap, folio_remove_rmap_ptes } from "./rmap.js";

type ScanResult =
  "SUCCEED" | "PMD_MAPPED" | "PAGE_COUNT" | "PAGE_RO" | "PAGE_ANON" | "ALLOC_HUGE_PAGE_FAIL" | "VMA_CHECK";

/** madvise_collapse_errno() */
function collapse_errno(r: ScanResult): number {
  switch (r) {
    case "ALLOC_HUGE_PAGE_FAIL":
      return -ENOMEM;
    case "PAGE_COUNT":
      return -EAGAIN;
    default:
      return -EINVAL;
  }
}

/**
 * thp_vma_allowable_order(TVA_FORCED_COLLAPSE): a forced collapse ignores the
 * sysfs mode but not VM_NOHUGEPAGE; only anonymous memory here (file and shmem
 * collapse is not modelled).
 */
function collapse_allowed(k: Kernel, vma: VmArea): boolean {
  if (!k.config.kconfig.TRANSPARENT_HUGEPAGE) return false;
  return vma.isAnonymous() && !(vma.vm_flags & (VM_NOHUGEPAGE | VM_SPECIAL));
}

export function madvise_collapse(k: Kernel, mm: MmStruct, start: number, end: number): number {
  const vma = mm.vma_lookup(start);
  if (!vma || vma.vm_end < end) return -EINVAL;
  if (!collapse_allowed(k, vma)) return -EINVAL;
  const hstart = Math.ceil(start / PMD_SIZE) * PMD_SIZE;
  const hend = Math.floor(end / PMD_SIZE) * PMD_SIZE;
  let thps = 0;
  let lastFail: ScanResult = "VMA_CHECK";
  for (let addr = hstart; addr < hend; addr += PMD_SIZE) {
    const r = scan_and_collapse(k, vma, addr);
    if (r === "SUCCEED" || r === "PMD_MAPPED") thps++;
    else lastFail = r;
    if (r === "ALLOC_HUGE_PAGE_FAIL") break;
  }
  return thps === (hend - hstart) / PMD_SIZE ? 0 : collapse_errno(lastFail);
}

/** hpage_collapse_scan_pmd() then collapse_huge_page() for one 2 MiB range. */
function scan_and_collapse(k: Kernel, vma: VmArea, haddr: number): ScanResult {
  const mm = vma.vm_mm;
  const mem = k.memmap;
  if (haddr < vma.vm_start || haddr + PMD_SIZE > vma.vm_end) return "VMA_CHECK";
  const pmd = mm.pgtables.pmdTable(haddr, false);
  const pi = pmd_index(haddr);
  if (pmd && pmd.bits[pi] & PTE.LEAF) return pmd.bits[pi] & PTE.SPECIAL ? "PAGE_RO" : "PMD_MAPPED";
  const t = pmd ? pmd.pte[pi] : null;
  let writable = false;
  const seen = new Set<number>();
  if (t) {
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      const bits = t.bits[i];
      if (!(bits & PTE.PRESENT) || bits & PTE.SPECIAL) continue; // none or zero page
      const folio = mem.head(t.pfn[i]);
      if (!mem.test(folio, PG.anon)) return "PAGE_ANON";
      if (bits & PTE.WRITE) writable = true;
      if (seen.has(folio)) continue;
      seen.add(folio);
      // "Check if the page has any GUP (or other external) pins."
      if (folio_expected_ref_count(k, folio) !== folio_ref_count(k, folio)) {
        k.trace.emit("collapse_page_count", "mm/khugepaged.c: hpage_collapse_scan_pmd()", {
          mm: mm.id,
          addr: haddr + i * PAGE_SIZE,
          pfn: t.pfn[i],
          pinned: folio_maybe_dma_pinned(k, folio),
        });
        return "PAGE_COUNT";
      }
    }
  }
  if (!writable) return "PAGE_RO";
  const thp = k.pa.alloc_pages(GFP_TRANSHUGE | __GFP_ZERO, HPAGE_PMD_ORDER, PG.large_rmappable);
  if (thp === NIL) return "ALLOC_HUGE_PAGE_FAIL";
  k.vmstat.thp_collapse_alloc++;
  // __collapse_huge_page_copy(): copy each page (holes read as zero), drop the old mappings
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const bits = t!.bits[i];
    if (!(bits & PTE.PRESENT)) continue;
    const pfn = t!.pfn[i];
    if (!(bits & PTE.SPECIAL)) {
      mem.setContent(thp + i, mem.content(pfn));
      const folio = mem.head(pfn);
      folio_remove_rmap_ptes(k, folio, pfn, 1, vma);
      folio_put(k, folio);
    }
  }
  pmd!.pte[pi] = null;
  mm.pgtables.freePteTable(pmd!, pi);
  anon_vma_prepare(k, vma);
  folio_add_new_anon_rmap(k, thp, vma, haddr, true, true);
  pmd!.pfn[pi] = thp;
  pmd!.bits[pi] = maybe_mkwrite(PTE.PRESENT | PTE.LEAF | PTE.DIRTY | PTE.YOUNG, vma);
  k.trace.emit("thp_collapse", "mm/khugepaged.c: collapse_huge_page()", { mm: mm.id, addr: haddr, pfn: thp });
  return "SUCCEED";
}
