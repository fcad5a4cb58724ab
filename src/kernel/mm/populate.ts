/**
 * Faulting in a range on behalf of the kernel, through GUP without
 * references (mm/gup.c: populate_vma_page_range(), __mm_populate(),
 * faultin_page_range(); mm/madvise.c: madvise_populate()):
 *  - MAP_POPULATE, MAP_LOCKED and mlock() use populate_vma_page_range():
 *    FOLL_TOUCH plus FOLL_WRITE for private writable VMAs (break COW up
 *    front) or FOLL_FORCE otherwise, no retry loop ([POP-1] … [POP-3]);
 *  - MADV_POPULATE_(READ|WRITE) use faultin_page_range(): real permissions
 *    (no FOLL_FORCE), FOLL_HWPOISON, and FOLL_MADV_POPULATE's VMA errors
 *    (no VMA → -ENOMEM, check_vma_flags() failure → -EINVAL, [SLOW-3]).
 * lru_add_drain() after each has nothing to drain in the model.
 */
import { EFAULT, EHWPOISON, EINTR, EINVAL, ENOMEM } from "../include/errno.js";
import {
  FOLL_FORCE,
  FOLL_HWPOISON,
  FOLL_MADV_POPULATE,
  FOLL_TOUCH,
  FOLL_UNLOCKABLE,
  FOLL_WRITE,
} from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { VM_IO, VM_LOCKONFAULT, VM_PFNMAP, VM_SHARED, VM_WRITE } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { vma_is_accessible } from "./gup_follow.js";
import { __get_user_pages, __get_user_pages_locked, type GupLocked } from "./gup_slow.js";
import type { MmStruct, VmArea } from "./mm_types.js";

/**
 * populate_vma_page_range(): fault in [start, end) of vma (page aligned,
 * inside the VMA; lock held). With `locked` the lock may be dropped
 * (FOLL_UNLOCKABLE) and the result is then a short count. Returns the
 * pages done, or -errno: -EFAULT for a PROT_NONE VMA ([POP-2]); a
 * VM_LOCKONFAULT VMA is not touched and reports every page done ([POP-1]).
 */
export function populate_vma_page_range(
  k: Kernel,
  vma: VmArea,
  start: number,
  end: number,
  locked: GupLocked | null = null,
): number {
  const nr_pages = (end - start) / PAGE_SIZE;
  if (k.config.kconfig.DEBUG_VM) {
    const where = "mm/gup.c: populate_vma_page_range()";
    if (start % PAGE_SIZE || end % PAGE_SIZE) k.warn(where, "unaligned range");
    if (start < vma.vm_start || end > vma.vm_end) k.warn(where, "range outside the VMA");
  }
  // VM_LOCKONFAULT has never used faultin_page() to break COW
  if (vma.vm_flags & VM_LOCKONFAULT) return nr_pages;
  // ... and PROT_NONE pages were never faulted in
  if (!vma_is_accessible(vma)) return -EFAULT;
  // [POP-3]: write-fault private writable mappings to break COW now; shared
  // ones do not COW and would only be dirtied for nothing. FOLL_FORCE makes
  // write-only or exec-only mappings readable.
  let gup_flags = FOLL_TOUCH;
  if ((vma.vm_flags & (VM_WRITE | VM_SHARED)) === VM_WRITE) gup_flags |= FOLL_WRITE;
  else gup_flags |= FOLL_FORCE;
  if (locked) gup_flags |= FOLL_UNLOCKABLE;
  return __get_user_pages(k, vma.vm_mm, start, nr_pages, gup_flags, null, 0, locked ?? { value: 1 });
}

/**
 * __mm_populate(): populate [start, start + len) of mm VMA by VMA, skipping
 * VM_IO|VM_PFNMAP ones, resuming after a dropped lock. With ignore_errors
 * (mm_populate(): MAP_POPULATE, MAP_LOCKED) an error moves on to the next
 * VMA; otherwise (mlock()) it is returned. Returns 0 or -errno.
 */
export function __mm_populate(
  k: Kernel,
  mm: MmStruct,
  start: number,
  len: number,
  ignore_errors: boolean,
): number {
  const end = start + len;
  const locked: GupLocked = { value: 0 };
  let ret = 0;
  let vma: VmArea | null = null;
  let nend = start;
  for (let nstart = start; nstart < end; nstart = nend) {
    if (!locked.value) {
      locked.value = 1;
      vma = find_vma_intersection(mm, nstart, end);
    } else if (vma && nstart >= vma.vm_end) {
      vma = find_vma_intersection(mm, vma.vm_end, end);
    }
    if (!vma) break;
    nend = Math.min(end, vma.vm_end);
    if (vma.vm_flags & (VM_IO | VM_PFNMAP)) continue;
    if (nstart < vma.vm_start) nstart = vma.vm_start;
    ret = populate_vma_page_range(k, vma, nstart, nend, locked);
    if (ret < 0) {
      if (ignore_errors) {
        ret = 0;
        continue;
      }
      break;
    }
    nend = nstart + ret * PAGE_SIZE;
    ret = 0;
  }
  return ret;
}

/** find_vma_intersection(): the first VMA overlapping [start, end). */
function find_vma_intersection(mm: MmStruct, start: number, end: number): VmArea | null {
  const vma = mm.find_vma(start);
  return vma && vma.vm_start < end ? vma : null;
}

/**
 * faultin_page_range(): the engine of MADV_POPULATE_(READ|WRITE). Returns
 * the pages done or -errno ([SLOW-3] errors for VMA problems).
 */
export function faultin_page_range(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  write: boolean,
  locked: GupLocked,
): number {
  const nr_pages = (end - start) / PAGE_SIZE;
  // FOLL_TOUCH marks accessed (and dirty for writes); FOLL_HWPOISON reports
  // poison as -EHWPOISON; no FOLL_FORCE: real permissions are required
  let gup_flags = FOLL_TOUCH | FOLL_HWPOISON | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE;
  if (write) gup_flags |= FOLL_WRITE;
  return __get_user_pages_locked(k, mm, start, nr_pages, null, 0, locked, gup_flags);
}

/**
 * madvise_populate() (mm/madvise.c): faultin_page_range() until the range is
 * done, mapping results: -EINTR, -EINVAL (incompatible mapping or
 * permissions), -EHWPOISON and -EFAULT (SIGBUS/SIGSEGV) pass through;
 * -ENOMEM (no VMA, OOM) and anything unexpected become -ENOMEM. [EXP-6]
 */
export function madvise_populate(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  write: boolean,
): number {
  const locked: GupLocked = { value: 1 };
  while (start < end) {
    const pages = faultin_page_range(k, mm, start, end, write, locked);
    if (!locked.value) locked.value = 1;
    if (pages < 0) {
      switch (pages) {
        case -EINTR:
        case -EINVAL:
        case -EHWPOISON:
        case -EFAULT:
          return pages;
        case -ENOMEM:
          return -ENOMEM;
        default:
          k.warn("mm/madvise.c: madvise_populate()", `unhandled return value: ${pages}`);
          return -ENOMEM;
      }
    }
    start += pages * PAGE_SIZE;
  }
  return 0;
}
