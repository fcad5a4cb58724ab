/**
 * vfio type1 (drivers/vfio/vfio_iommu_type1.c: vfio_dma_do_map(),
 * vfio_pin_pages_remote(), vaddr_get_pfns(), vfio_lock_acct()):
 * VFIO_IOMMU_MAP_DMA pins the range with pin_user_pages_remote(current->mm,
 * FOLL_LONGTERM [| FOLL_WRITE]) and charges mm->locked_vm (VmLck, not VmPin)
 * against RLIMIT_MEMLOCK unless CAP_IPC_LOCK (-ENOMEM). A VM_PFNMAP range
 * is not pinned at all: its pfns are followed (follow_fault_pfn()) and, being
 * reserved, not accounted.
 */
import { EEXIST, EFAULT, EINVAL, ENOMEM } from "../include/errno.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";
import { VM_PFNMAP } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { CAP_IPC_LOCK, type Task } from "../kernel/task.js";
import { LEVEL_NONE, walk_addr } from "../mm/pagewalk.js";
import { driver_gup, driver_release } from "./pin_user.js";
import { pin_table, type PinRecord } from "./pin_table.js";

/** include/uapi/linux/vfio.h */
export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;

interface VfioDma {
  iova: number;
  vaddr: number;
  size: number;
  rec: PinRecord;
  /** pages charged to locked_vm */
  lockAcct: number;
  task: Task;
}

const containers = new WeakMap<Task, VfioDma[]>();

/**
 * VFIO_IOMMU_MAP_DMA: returns 0 or -errno (-EEXIST for an overlapping iova,
 * -EINVAL for bad sizes/flags, -EFAULT/-ENOMEM/-EOPNOTSUPP from pinning).
 */
export function vfio_iommu_map_dma(
  k: Kernel,
  task: Task,
  vaddr: number,
  iova: number,
  size: number,
  flags: number,
): number {
  if (!size || size % PAGE_SIZE || vaddr % PAGE_SIZE || iova % PAGE_SIZE) return -EINVAL;
  if (
    flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) ||
    !(flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
  )
    return -EINVAL;
  const dmas = containers.get(task) ?? [];
  containers.set(task, dmas);
  if (dmas.some((d) => d.iova < iova + size && iova < d.iova + d.size)) return -EEXIST;
  const mm = task.mm!;
  const nr = size / PAGE_SIZE;
  const gupFlags = FOLL_LONGTERM | (flags & VFIO_DMA_MAP_FLAG_WRITE ? FOLL_WRITE : 0);
  const vma = mm.vma_lookup(vaddr);
  if (vma && vma.vm_flags & VM_PFNMAP) {
    // vaddr_get_pfns(): GUP refuses (-EFAULT); a PFNMAP VMA's pfns are taken as they are
    const pfns = new Int32Array(nr);
    for (let i = 0; i < nr; i++) {
      const w = walk_addr(mm, vaddr + i * PAGE_SIZE);
      if (w.level === LEVEL_NONE || !(w.bits & PTE.PRESENT)) return -EFAULT;
      pfns[i] = w.pfn;
    }
    const rec = pin_table(k).add({
      owner: "vfio",
      api: "follow_pfnmap",
      flags: gupFlags,
      pid: task.pid,
      start: vaddr,
      nrPages: nr,
      pages: pfns,
      kind: "ref",
      longterm: true,
    });
    rec.released = false;
    dmas.push({ iova, vaddr, size, rec, lockAcct: 0, task });
    return 0;
  }
  const { ret, rec } = driver_gup(k, {
    owner: "vfio",
    api: "pin_user_pages_remote",
    caller: task,
    target: task,
    start: vaddr,
    nrPages: nr,
    flags: gupFlags,
  });
  if (ret !== nr) {
    if (rec) driver_release(k, rec);
    return ret < 0 ? ret : -EFAULT;
  }
  // vfio_lock_acct(): the RLIMIT_MEMLOCK check happens page batch by batch
  const limit = Math.floor(task.rlimitMemlock / PAGE_SIZE);
  if (!task.capable(CAP_IPC_LOCK) && mm.locked_vm + nr > limit) {
    driver_release(k, rec!);
    k.trace.emit("vfio_rlimit", "drivers/vfio/vfio_iommu_type1.c: vfio_pin_pages_remote()", {
      pid: task.pid,
      limit: task.rlimitMemlock,
    });
    return -ENOMEM;
  }
  mm.locked_vm += nr;
  dmas.push({ iova, vaddr, size, rec: rec!, lockAcct: nr, task });
  k.trace.emit("vfio_map_dma", "drivers/vfio/vfio_iommu_type1.c: vfio_pin_map_dma()", {
    pid: task.pid,
    pin: rec!.id,
    iova,
    pages: nr,
    mm: mm.id,
  });
  return 0;
}

/** VFIO_IOMMU_UNMAP_DMA: unpin (dirtying, as vfio_unpin_pages_remote() does for writable maps) and unaccount. Returns bytes unmapped. */
export function vfio_iommu_unmap_dma(k: Kernel, task: Task, iova: number, size: number): number {
  const dmas = containers.get(task) ?? [];
  let done = 0;
  for (const d of [...dmas]) {
    if (d.iova < iova || d.iova + d.size > iova + size) continue;
    if (d.rec.api === "follow_pfnmap") d.rec.released = true;
    else driver_release(k, d.rec, (d.rec.flags & FOLL_WRITE) !== 0);
    if (d.task.mm) d.task.mm.locked_vm -= d.lockAcct;
    dmas.splice(dmas.indexOf(d), 1);
    done += d.size;
  }
  return done;
}

/** The pin behind a mapped iova, for the device. */
export function vfio_dma_record(task: Task, iova: number): PinRecord | null {
  return containers.get(task)?.find((d) => d.iova <= iova && iova < d.iova + d.size)?.rec ?? null;
}
