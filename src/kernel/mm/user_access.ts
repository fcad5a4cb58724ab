/**
 * A user-space load or store: the hardware walk, and on a miss the x86
 * page-fault path (arch/x86/mm/fault.c: do_user_addr_fault(), access_error())
 * into handle_mm_fault(). SIGSEGV and SIGBUS come back as -EFAULT, OOM as
 * -ENOMEM; the model's processes live on.
 */
import { EFAULT, ENOMEM } from "../include/errno.js";
import { FAULT_FLAG, VM_FAULT } from "../include/fault.js";
import { PTE } from "../include/pgtable.js";
import { VM_EXEC, VM_READ, VM_WRITE } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { handle_mm_fault } from "./memory.js";
import type { MmStruct } from "./mm_types.js";
import { LEVEL_NONE, walk_addr } from "./pagewalk.js";

/** access_error(): a write needs VM_WRITE; any access needs the VMA to be accessible. */
function access_error(vmFlags: number, write: boolean): boolean {
  if (write) return !(vmFlags & VM_WRITE);
  return !(vmFlags & (VM_READ | VM_WRITE | VM_EXEC));
}

/**
 * The pfn a user access to addr reaches, faulting as the CPU would;
 * -EFAULT for SIGSEGV/SIGBUS, -ENOMEM for OOM.
 */
export function user_access(k: Kernel, mm: MmStruct, addr: number, write: boolean): number {
  for (let attempt = 0; attempt < 3; attempt++) {
    const vma = mm.vma_lookup(addr);
    if (!vma || access_error(vma.vm_flags, write)) {
      k.trace.emit("sigsegv", "arch/x86/mm/fault.c: do_user_addr_fault()", { mm: mm.id, addr, write });
      return -EFAULT;
    }
    const w = walk_addr(mm, addr);
    if (
      w.level !== LEVEL_NONE &&
      w.bits & PTE.PRESENT &&
      !(w.bits & PTE.PROTNONE) &&
      (!write || w.bits & PTE.WRITE)
    ) {
      return w.pfn;
    }
    const r = handle_mm_fault(k, vma, addr, FAULT_FLAG.USER | (write ? FAULT_FLAG.WRITE : 0));
    if (r & VM_FAULT.OOM) return -ENOMEM;
    if (r & (VM_FAULT.SIGBUS | VM_FAULT.SIGSEGV | VM_FAULT.HWPOISON | VM_FAULT.HWPOISON_LARGE)) {
      k.trace.emit("sigbus", "arch/x86/mm/fault.c: do_user_addr_fault()", { mm: mm.id, addr, write });
      return -EFAULT;
    }
  }
  return -EFAULT;
}

/** Set the dirty/young bits a completed user store leaves in the PTE (hardware A/D bits). */
export function mark_accessed(mm: MmStruct, addr: number, write: boolean): void {
  const pmd = mm.pgtables.pmdTable(addr, false);
  const w = walk_addr(mm, addr);
  if (w.level === LEVEL_NONE) return;
  void pmd;
  const bit = PTE.YOUNG | (write ? PTE.DIRTY : 0);
  const t = mm.pgtables.pteTable(addr, false);
  if (t) t.bits[Math.floor(addr / 4096) % 512] |= bit;
}
