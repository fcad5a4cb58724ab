/**
 * Faulting in a range on behalf of the kernel: populate_vma_page_range()
 * (MAP_POPULATE, mlock) and faultin_page_range() (MADV_POPULATE_READ/WRITE),
 * mm/gup.c. Both walk like GUP without taking references: a page that is
 * not present (or not writable, for a write) is faulted in.
 */
import { EFAULT, EINTR, EINVAL, ENOMEM, EHWPOISON } from "../include/errno.js";
import { FAULT_FLAG, VM_FAULT } from "../include/fault.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";
import { is_cow_mapping, VM_IO, VM_PFNMAP, VM_READ, VM_WRITE, VM_SHARED } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { handle_mm_fault } from "./memory.js";
import type { MmStruct, VmArea } from "./mm_types.js";
import { LEVEL_NONE, walk_addr } from "./pagewalk.js";

function needsFault(mm: MmStruct, addr: number, write: boolean): boolean {
  const w = walk_addr(mm, addr);
  if (w.level === LEVEL_NONE || !(w.bits & PTE.PRESENT)) return true;
  return write && !(w.bits & PTE.WRITE);
}

/**
 * populate_vma_page_range(): FOLL_TOUCH, plus FOLL_WRITE for private
 * writable mappings (break COW now) or FOLL_FORCE otherwise. Returns pages
 * populated or a fault error; mm_populate() callers ignore it.
 */
export function populate_vma_page_range(k: Kernel, vma: VmArea, start: number, end: number): number {
  if (vma.vm_flags & (VM_IO | VM_PFNMAP)) return 0;
  const write = (vma.vm_flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
  let n = 0;
  for (let a = start; a < end; a += PAGE_SIZE) {
    if (needsFault(vma.vm_mm, a, write)) {
      const r = handle_mm_fault(k, vma, a, write ? FAULT_FLAG.WRITE : 0);
      if (r & (VM_FAULT.SIGBUS | VM_FAULT.SIGSEGV | VM_FAULT.OOM | VM_FAULT.HWPOISON)) return n ? n : -EFAULT;
    }
    n++;
  }
  return n;
}

/**
 * faultin_page_range() for MADV_POPULATE_(READ|WRITE) (mm/madvise.c:
 * madvise_populate()): no VMA → -ENOMEM; VM_IO/PFNMAP or missing
 * permission → -EINVAL (check_vma_flags with FOLL_MADV_POPULATE: a
 * PROT_WRITE-only VMA fails the read check); SIGBUS → -EFAULT; poison → -EHWPOISON.
 */
export function madvise_populate(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  write: boolean,
): number {
  for (let a = start; a < end;) {
    const vma = mm.vma_lookup(a);
    if (!vma) return -ENOMEM;
    if (vma.vm_flags & (VM_IO | VM_PFNMAP)) return -EINVAL;
    if (write ? !(vma.vm_flags & VM_WRITE) : !(vma.vm_flags & VM_READ)) return -EINVAL;
    const stop = Math.min(end, vma.vm_end);
    const cow = write && is_cow_mapping(vma.vm_flags);
    for (; a < stop; a += PAGE_SIZE) {
      if (k.current?.fatalSignal) return -EINTR;
      if (!needsFault(mm, a, write)) continue;
      const r = handle_mm_fault(k, vma, a, write ? FAULT_FLAG.WRITE : 0);
      if (r & VM_FAULT.OOM) return -ENOMEM;
      if (r & (VM_FAULT.HWPOISON | VM_FAULT.HWPOISON_LARGE)) return -EHWPOISON;
      if (r & (VM_FAULT.SIGBUS | VM_FAULT.SIGSEGV)) return -EFAULT;
      void cow;
    }
  }
  return 0;
}
