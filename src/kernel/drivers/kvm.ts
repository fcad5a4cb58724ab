/**
 * KVM guest memory access (virt/kvm/kvm_main.c: hva_to_pfn() → hva_to_pfn_fast()
 * with get_user_page_fast_only(), falling back to get_user_pages_unlocked()):
 * KVM maps a guest page through a FOLL_GET reference — not a pin — held by
 * its secondary MMU until an mmu notifier invalidation drops it. The model
 * takes the reference for one access (kvm_vcpu_map()/kvm_vcpu_unmap()) and
 * resolves the address anew each time, as KVM does after an invalidation.
 */
import { EFAULT } from "../include/errno.js";
import { FOLL_WRITE } from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import { get_user_page_fast_only, get_user_pages_unlocked } from "../mm/gup.js";
import { put_page } from "../mm/gup_refs.js";

/** hva_to_pfn(): a referenced page for the guest access, or -EFAULT. */
function hva_to_pfn(k: Kernel, vm: Task, hva: number, write: boolean): number {
  const flags = write ? FOLL_WRITE : 0;
  const page = [-1];
  return k.asTask(vm, () => {
    if (get_user_page_fast_only(k, hva, flags, page)) return page[0];
    const r = get_user_pages_unlocked(k, Math.floor(hva / PAGE_SIZE) * PAGE_SIZE, 1, flags, page);
    return r === 1 ? page[0] : -EFAULT;
  });
}

/** kvm_write_guest(): the guest (through KVM) stores value at hva of the VMM process. */
export function kvm_write_guest(k: Kernel, vm: Task, hva: number, value: number): number {
  const p = hva_to_pfn(k, vm, hva, true);
  if (p < 0) return p;
  k.memmap.setContent(p, value);
  k.trace.emit("kvm_write_guest", "virt/kvm/kvm_main.c: kvm_write_guest_page()", {
    pid: vm.pid,
    hva,
    pfn: p,
    value,
  });
  put_page(k, p);
  return 0;
}

/** kvm_read_guest(): the content the guest sees at hva. */
export function kvm_read_guest(k: Kernel, vm: Task, hva: number): number {
  const p = hva_to_pfn(k, vm, hva, false);
  if (p < 0) return p;
  const v = k.memmap.content(p);
  put_page(k, p);
  return v;
}
