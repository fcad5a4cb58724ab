/**
 * RDMA memory registration (drivers/infiniband/core/umem.c: ib_umem_get(),
 * umem_odp.c). A regular MR pins with pin_user_pages_fast(FOLL_LONGTERM
 * [| FOLL_WRITE]) — FOLL_FORCE was dropped in 6.2 — after charging
 * mm->pinned_vm against RLIMIT_MEMLOCK unless CAP_IPC_LOCK (-ENOMEM);
 * can_do_mlock() failing is -EPERM. An ODP MR pins nothing: the device
 * resolves addresses through the process's page tables on demand
 * (hmm_range_fault()), and mmu notifiers invalidate what changes, so it
 * always sees the page the process maps.
 */
import { EFAULT, ENOMEM, EPERM } from "../include/errno.js";
import { FAULT_FLAG, VM_FAULT } from "../include/fault.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";
import type { Kernel } from "../kernel.js";
import { CAP_IPC_LOCK, type Task } from "../kernel/task.js";
import { handle_mm_fault } from "../mm/memory.js";
import { LEVEL_NONE, walk_addr } from "../mm/pagewalk.js";
import { driver_gup, driver_release } from "./pin_user.js";
import type { PinRecord } from "./pin_table.js";

/** include/rdma/ib_verbs.h: IB_ACCESS_* */
export const IB_ACCESS_LOCAL_WRITE = 1;
export const IB_ACCESS_REMOTE_WRITE = 1 << 1;
export const IB_ACCESS_ON_DEMAND = 1 << 6;

export interface IbUmem {
  rec: PinRecord;
  task: Task;
  npages: number;
}

/** ib_umem_writable(): any write access makes the pin FOLL_WRITE. */
function writable(access: number): boolean {
  return (access & (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE)) !== 0;
}

/** ib_umem_get(): the umem, or -errno. Partial pins continue page batch by batch; any error releases all. */
export function ib_umem_get(
  k: Kernel,
  task: Task,
  addr: number,
  size: number,
  access: number,
): IbUmem | number {
  if (!task.capable(CAP_IPC_LOCK) && task.rlimitMemlock === 0) return -EPERM; // can_do_mlock()
  const mm = task.mm!;
  const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  const npages = Math.ceil((addr + size) / PAGE_SIZE) - start / PAGE_SIZE;
  if (!npages) return -EFAULT;
  const limit = Math.floor(task.rlimitMemlock / PAGE_SIZE);
  mm.pinned_vm += npages;
  if (mm.pinned_vm > limit && !task.capable(CAP_IPC_LOCK)) {
    mm.pinned_vm -= npages;
    return -ENOMEM;
  }
  const { ret, rec } = driver_gup(k, {
    owner: "rdma",
    api: "pin_user_pages_fast",
    caller: task,
    target: task,
    start,
    nrPages: npages,
    flags: FOLL_LONGTERM | (writable(access) ? FOLL_WRITE : 0),
  });
  if (ret !== npages) {
    if (rec) driver_release(k, rec);
    mm.pinned_vm -= npages;
    return ret < 0 ? ret : -EFAULT;
  }
  k.trace.emit("ib_umem_get", "drivers/infiniband/core/umem.c: ib_umem_get()", {
    pid: task.pid,
    pin: rec!.id,
    pages: npages,
    mm: mm.id,
  });
  return { rec: rec!, task, npages };
}

/** ib_umem_release(): unpin (dirty when writable) and give back pinned_vm. */
export function ib_umem_release(k: Kernel, umem: IbUmem): void {
  driver_release(k, umem.rec, (umem.rec.flags & FOLL_WRITE) !== 0);
  if (umem.task.mm) umem.task.mm.pinned_vm -= umem.npages;
}

export interface OdpUmem {
  task: Task;
  start: number;
  npages: number;
  writable: boolean;
}

/** ib_umem_odp_get(): nothing pinned, nothing accounted. */
export function ib_umem_odp_get(k: Kernel, task: Task, addr: number, size: number, access: number): OdpUmem {
  const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  k.trace.emit("ib_umem_odp_get", "drivers/infiniband/core/umem_odp.c: ib_umem_odp_get()", {
    pid: task.pid,
    start,
  });
  return {
    task,
    start,
    npages: Math.ceil((addr + size) / PAGE_SIZE) - start / PAGE_SIZE,
    writable: writable(access),
  };
}

/**
 * ib_umem_odp_map_dma_and_lock() → hmm_range_fault(): the pfn the device
 * uses for page i right now, faulting it in (for write when the MR is
 * writable). -EFAULT when the address is not mapped.
 */
export function odp_resolve(k: Kernel, odp: OdpUmem, i: number): number {
  const mm = odp.task.mm;
  if (!mm) return -EFAULT;
  const addr = odp.start + i * PAGE_SIZE;
  const w0 = walk_addr(mm, addr);
  if (w0.level !== LEVEL_NONE && w0.bits & PTE.PRESENT && (!odp.writable || w0.bits & PTE.WRITE))
    return w0.pfn;
  const vma = mm.vma_lookup(addr);
  if (!vma) return -EFAULT;
  const r = handle_mm_fault(
    k,
    vma,
    addr,
    odp.writable ? FAULT_FLAG.WRITE | FAULT_FLAG.REMOTE : FAULT_FLAG.REMOTE,
  );
  if (r & (VM_FAULT.SIGBUS | VM_FAULT.SIGSEGV | VM_FAULT.OOM)) return -EFAULT;
  const w = walk_addr(mm, addr);
  k.trace.emit("odp_fault", "mm/hmm.c: hmm_range_fault()", { pid: odp.task.pid, addr, pfn: w.pfn });
  return w.level === LEVEL_NONE ? -EFAULT : w.pfn;
}
