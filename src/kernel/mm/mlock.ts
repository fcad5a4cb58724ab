/**
 * mlock(), mlock2(), munlock(), mlockall(), munlockall() (mm/mlock.c):
 * VM_LOCKED(/VM_LOCKONFAULT) on the VMAs, mm->locked_vm accounting against
 * RLIMIT_MEMLOCK unless CAP_IPC_LOCK, and population of the range.
 */
import { EAGAIN, EFAULT, EINVAL, ENOMEM, EPERM } from "../include/errno.js";
import { MLOCK } from "../include/mman.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { VM_IO, VM_LOCKED, VM_LOCKONFAULT, VM_PFNMAP } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { CAP_IPC_LOCK, type Task } from "../kernel/task.js";
import { check_hugetlb_split, PAGE_ALIGN, vmas_covering } from "./mmap.js";
import { populate_vma_page_range } from "./populate.js";

/** can_do_mlock(): a zero RLIMIT_MEMLOCK without CAP_IPC_LOCK forbids mlock entirely. */
function can_do_mlock(task: Task): boolean {
  return task.rlimitMemlock !== 0 || task.capable(CAP_IPC_LOCK);
}

/** do_mlock(): returns 0 or -errno. */
export function do_mlock(k: Kernel, task: Task, start: number, len: number, flags: number): number {
  const mm = task.mm!;
  if (flags & ~MLOCK.MLOCK_ONFAULT) return -EINVAL;
  if (!can_do_mlock(task)) return -EPERM;
  const end = PAGE_ALIGN(start + len);
  start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  if (end <= start) return 0;
  let cursor = start;
  let newPages = 0;
  for (const v of mm.vmasIn(start, end)) {
    if (v.vm_start > cursor) return -ENOMEM;
    cursor = v.vm_end;
    if (!(v.vm_flags & VM_LOCKED))
      newPages += (Math.min(end, v.vm_end) - Math.max(start, v.vm_start)) / PAGE_SIZE;
  }
  if (cursor < end) return -ENOMEM;
  if (!task.capable(CAP_IPC_LOCK) && (mm.locked_vm + newPages) * PAGE_SIZE > task.rlimitMemlock)
    return -ENOMEM;
  for (const v of vmas_covering(k, mm, start, end)) {
    if (v.vm_flags & (VM_IO | VM_PFNMAP)) continue; // mlock_fixup() skips VM_SPECIAL
    if (!(v.vm_flags & VM_LOCKED)) mm.locked_vm += v.pages();
    v.vm_flags |= VM_LOCKED | (flags & MLOCK.MLOCK_ONFAULT ? VM_LOCKONFAULT : 0);
    if (!(flags & MLOCK.MLOCK_ONFAULT)) {
      // __mm_populate(): failure to fault is -ENOMEM for mlock (EAGAIN when some pages could not be locked)
      // __mm_populate() then __mlock_posix_error_return(): -EFAULT → -ENOMEM, -ENOMEM → -EAGAIN
      const r = populate_vma_page_range(k, v, v.vm_start, v.vm_end);
      if (r < 0) return r === -EFAULT ? -ENOMEM : r === -ENOMEM ? -EAGAIN : r;
    }
  }
  return 0;
}

export function do_munlock(k: Kernel, task: Task, start: number, len: number): number {
  const mm = task.mm!;
  const end = PAGE_ALIGN(start + len);
  start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  if (end <= start) return 0;
  let cursor = start;
  for (const v of mm.vmasIn(start, end)) {
    if (v.vm_start > cursor) return -ENOMEM;
    cursor = v.vm_end;
  }
  if (cursor < end) return -ENOMEM;
  const hs = check_hugetlb_split(mm, start, end);
  if (hs) return hs;
  for (const v of vmas_covering(k, mm, start, end)) {
    if (v.vm_flags & VM_LOCKED) mm.locked_vm -= v.pages();
    v.vm_flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
  }
  return 0;
}

/** mlockall(): MCL_CURRENT locks what is mapped, MCL_FUTURE sets mm->def_flags. */
export function do_mlockall(k: Kernel, task: Task, flags: number): number {
  const mm = task.mm!;
  if (!flags || flags & ~(MLOCK.MCL_CURRENT | MLOCK.MCL_FUTURE | MLOCK.MCL_ONFAULT)) return -EINVAL;
  if (flags === MLOCK.MCL_ONFAULT) return -EINVAL;
  if (!can_do_mlock(task)) return -EPERM;
  const onfault = flags & MLOCK.MCL_ONFAULT ? VM_LOCKONFAULT : 0;
  if (flags & MLOCK.MCL_FUTURE) mm.def_flags |= VM_LOCKED | onfault;
  else mm.def_flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
  if (flags & MLOCK.MCL_CURRENT) {
    if (!task.capable(CAP_IPC_LOCK) && mm.total_vm * PAGE_SIZE > task.rlimitMemlock) return -ENOMEM;
    for (const v of [...mm.vmas]) {
      const r = do_mlock(k, task, v.vm_start, v.vm_end - v.vm_start, onfault ? MLOCK.MLOCK_ONFAULT : 0);
      if (r < 0 && r !== -ENOMEM) return r;
    }
  }
  return 0;
}

export function do_munlockall(k: Kernel, task: Task): number {
  const mm = task.mm!;
  mm.def_flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
  for (const v of [...mm.vmas]) do_munlock(k, task, v.vm_start, v.vm_end - v.vm_start);
  return 0;
}
