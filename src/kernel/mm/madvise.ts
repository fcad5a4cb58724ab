/**
 * madvise() (mm/madvise.c): the advice values the model implements. Unknown
 * advice is -EINVAL, like the kernel's madvise_behavior_valid().
 */
import { EINVAL, ENOMEM, EAGAIN } from "../include/errno.js";
import { MADV } from "../include/mman.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import {
  VM_DONTCOPY,
  VM_HUGEPAGE,
  VM_LOCKED,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_IO,
  VM_WIPEONFORK,
  VM_SHARED,
  VM_MERGEABLE,
  VM_HUGETLB,
} from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { zap_page_range } from "./memory.js";
import type { MmStruct } from "./mm_types.js";
import { check_hugetlb_split, PAGE_ALIGN, vmas_covering } from "./mmap.js";
import { madvise_populate } from "./populate.js";
import { madvise_collapse } from "./khugepaged.js";
import { madvise_pageout } from "./vmscan.js";
import { TASK_SIZE } from "./pgtable.js";

export function do_madvise(k: Kernel, mm: MmStruct, start: number, len: number, advice: number): number {
  if (start % PAGE_SIZE !== 0) return -EINVAL;
  const known = Object.values(MADV) as number[];
  if (!known.includes(advice)) return -EINVAL;
  const end = start + PAGE_ALIGN(len);
  if (end < start || end > TASK_SIZE) return -EINVAL;
  if (end === start) return 0;
  // the range must be mapped (-ENOMEM for holes, after applying to what is mapped)
  let cursor = start;
  let hole = false;
  for (const v of mm.vmasIn(start, end)) {
    if (v.vm_start > cursor) hole = true;
    cursor = v.vm_end;
  }
  if (cursor < end) hole = true;
  switch (advice) {
    case MADV.MADV_POPULATE_READ:
    case MADV.MADV_POPULATE_WRITE:
      return madvise_populate(k, mm, start, end, advice === MADV.MADV_POPULATE_WRITE);
    case MADV.MADV_COLLAPSE:
      return madvise_collapse(k, mm, start, end);
    case MADV.MADV_DONTNEED:
    case MADV.MADV_DONTNEED_LOCKED:
    case MADV.MADV_FREE:
    case MADV.MADV_REMOVE:
      for (const v of mm.vmasIn(start, end)) {
        // madvise_dontneed_free_valid_vma(): not on locked, PFNMAP or (for FREE) shared/hugetlb
        if (v.vm_flags & (VM_PFNMAP | VM_IO)) return -EINVAL;
        if (advice === MADV.MADV_DONTNEED && v.vm_flags & VM_LOCKED) return -EINVAL;
        if (advice === MADV.MADV_FREE && v.vm_flags & (VM_SHARED | VM_HUGETLB)) return -EINVAL;
        if (advice === MADV.MADV_REMOVE && !(v.vm_flags & VM_SHARED)) return -EINVAL;
      }
      if (advice === MADV.MADV_FREE) {
        // lazyfree: pages stay until reclaim wants them; nothing visible changes now
        k.trace.emit("madvise_free", "mm/madvise.c: madvise_free_single_vma()", { mm: mm.id, start, end });
        break;
      }
      for (const v of mm.vmasIn(start, end)) {
        const s = Math.max(start, v.vm_start);
        const e = Math.min(end, v.vm_end);
        // hugetlb VMAs zap whole huge pages only
        zap_page_range(k, v, s, e);
      }
      k.trace.emit("madvise_dontneed", "mm/madvise.c: madvise_dontneed_single_vma()", {
        mm: mm.id,
        start,
        end,
      });
      break;
    case MADV.MADV_HUGEPAGE:
    case MADV.MADV_NOHUGEPAGE:
    case MADV.MADV_DONTFORK:
    case MADV.MADV_DOFORK:
    case MADV.MADV_WIPEONFORK:
    case MADV.MADV_KEEPONFORK:
    case MADV.MADV_MERGEABLE:
    case MADV.MADV_UNMERGEABLE: {
      for (const v of mm.vmasIn(start, end)) {
        if (advice === MADV.MADV_DONTFORK && v.vm_flags & (VM_IO | VM_PFNMAP)) return -EINVAL;
        if (advice === MADV.MADV_WIPEONFORK && (v.vm_flags & VM_SHARED || !v.isAnonymous())) return -EINVAL;
        if (advice === MADV.MADV_MERGEABLE && !k.config.kconfig.KSM) return -EINVAL;
      }
      const hs = check_hugetlb_split(mm, start, end);
      if (hs) return hs;
      for (const v of vmas_covering(k, mm, start, end)) {
        switch (advice) {
          case MADV.MADV_HUGEPAGE:
            v.vm_flags = (v.vm_flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
            break;
          case MADV.MADV_NOHUGEPAGE:
            v.vm_flags = (v.vm_flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
            break;
          case MADV.MADV_DONTFORK:
            v.vm_flags |= VM_DONTCOPY;
            break;
          case MADV.MADV_DOFORK:
            v.vm_flags &= ~VM_DONTCOPY;
            break;
          case MADV.MADV_WIPEONFORK:
            v.vm_flags |= VM_WIPEONFORK;
            break;
          case MADV.MADV_KEEPONFORK:
            v.vm_flags &= ~VM_WIPEONFORK;
            break;
          case MADV.MADV_MERGEABLE:
            v.vm_flags |= VM_MERGEABLE;
            break;
          case MADV.MADV_UNMERGEABLE:
            v.vm_flags &= ~VM_MERGEABLE;
            break;
        }
      }
      break;
    }
    case MADV.MADV_PAGEOUT:
      for (const v of mm.vmasIn(start, end))
        if (v.vm_flags & (VM_LOCKED | VM_PFNMAP | VM_IO) || v.isHugetlb()) return -EINVAL; // can_madv_lru_vma()
      madvise_pageout(k, mm, start, end);
      break;
    default:
      // MADV_NORMAL/RANDOM/SEQUENTIAL/WILLNEED/COLD/DONTDUMP/DODUMP: hints with no
      // effect the model can observe (no readahead, no reclaim on demand)
      k.trace.emit("madvise_hint", "mm/madvise.c: madvise_vma_behavior()", { mm: mm.id, advice });
      break;
  }
  void EAGAIN;
  return hole ? -ENOMEM : 0;
}
