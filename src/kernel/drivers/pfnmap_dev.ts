/**
 * A character device whose mmap() maps device memory with remap_pfn_range()
 * (mm/memory.c): the VMA becomes VM_IO|VM_PFNMAP|VM_DONTEXPAND|VM_DONTDUMP
 * and its PTEs are special — no struct page behind them as far as mm is
 * concerned — which is what GUP refuses with -EFAULT (check_vma_flags()).
 * The "device memory" is a window of reserved low pfns, like MMIO.
 */
import { EINVAL, ENOMEM } from "../include/errno.js";
import { VM_FAULT } from "../include/fault.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";
import { VM_DONTDUMP, VM_DONTEXPAND, VM_IO, VM_PFNMAP, VM_WRITE } from "../include/vm_flags.js";
import type { OpenFile } from "../fs/file.js";
import type { Kernel } from "../kernel.js";
import type { VmArea, VmOperations } from "../mm/mm_types.js";
import { set_pte } from "../mm/memory.js";

/** Device memory: pfns [DEV_PFN_BASE, DEV_PFN_BASE + DEV_PAGES) of the reserved low 4 MiB. */
export const DEV_PFN_BASE = 256;
export const DEV_PAGES = 512;

const pfnmap_vm_ops: VmOperations = {
  name: "special",
  // every page was mapped at mmap time; a fault here is outside the device
  fault: () => VM_FAULT.SIGBUS,
};

/** remap_pfn_range(): map [pfn, pfn + size) at vma start with special PTEs. */
export function remap_pfn_range(k: Kernel, vma: VmArea, pfn: number, size: number): number {
  if (size % PAGE_SIZE !== 0) return -EINVAL;
  vma.vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
  const mm = vma.vm_mm;
  for (let off = 0; off < size; off += PAGE_SIZE) {
    const addr = vma.vm_start + off;
    const t = mm.pgtables.pteTable(addr, true);
    if (!t) return -ENOMEM;
    const bits =
      PTE.PRESENT | PTE.SPECIAL | PTE.YOUNG | (vma.vm_flags & VM_WRITE ? PTE.WRITE | PTE.DIRTY : 0);
    set_pte(t, Math.floor(addr / PAGE_SIZE) % 512, pfn + off / PAGE_SIZE, bits);
  }
  void k;
  return 0;
}

/** An open file of the device. */
export function open_pfnmap_device(flags: number): OpenFile {
  const file: OpenFile = {
    kind: "other",
    flags,
    readable: true,
    writable: (flags & 3) !== 0,
    mmap(k: Kernel, vma: VmArea): number {
      const size = vma.vm_end - vma.vm_start;
      const first = vma.vm_pgoff;
      if (first + size / PAGE_SIZE > DEV_PAGES) return -EINVAL;
      vma.vm_ops = pfnmap_vm_ops;
      return remap_pfn_range(k, vma, DEV_PFN_BASE + first, size);
    },
    release(): void {},
    dup: () => file,
  };
  return file;
}
