/**
 * The GUP slow path (mm/gup.c): the VMA checks (check_vma_flags()), the
 * fault that makes a missing or unsuitable entry followable
 * (faultin_page()), the page loop (__get_user_pages()) and the
 * mmap_lock/retry protocol around it (__get_user_pages_locked()). The walk
 * that finds and grabs the page behind an address is gup_follow.ts.
 *
 * The model's mmap_lock is the `locked` in/out integer only: taking it never
 * blocks and therefore never fails (mmap_read_lock_killable() only fails
 * while waiting), so [LOCK-2]'s -EAGAIN and [LOCK-8]'s lock failure are not
 * reachable. Fault handlers in the model complete synchronously; a handler
 * that does return VM_FAULT_RETRY (a file system modelling I/O waits) gets
 * the kernel's full retry protocol ([FLT-4], [LOCK-5..9]).
 */
import {
  EAGAIN,
  EBUSY,
  EEXIST,
  EFAULT,
  EHWPOISON,
  EINTR,
  EINVAL,
  ENOMEM,
  EOPNOTSUPP,
} from "../include/errno.js";
import { FAULT_FLAG, VM_FAULT, VM_FAULT_ERROR } from "../include/fault.js";
import {
  FOLL_ANON,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_HWPOISON,
  FOLL_INTERRUPTIBLE,
  FOLL_LONGTERM,
  FOLL_MADV_POPULATE,
  FOLL_NOFAULT,
  FOLL_NOWAIT,
  FOLL_PIN,
  FOLL_REMOTE,
  FOLL_SPLIT_PMD,
  FOLL_TRIED,
  FOLL_UNLOCKABLE,
  FOLL_WRITE,
  formatFoll,
} from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import {
  is_cow_mapping,
  VM_GROWSDOWN,
  VM_IO,
  VM_MAYREAD,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { EMLINK_INTERNAL, FOLLOW_NULL, follow_page_mask, pageMask } from "./gup_follow.js";
import { fill_subpages, gup_put_folio, type GupPages, try_grab_folio } from "./gup_refs.js";
import { __split_huge_pmd } from "./huge_memory.js";
import { handle_mm_fault } from "./memory.js";
import { MMF_HAS_PINNED, type MmStruct, type VmArea } from "./mm_types.js";

/** The `int *locked` of the GUP API: 1 while the caller's mmap_lock is held. */
export interface GupLocked {
  value: number;
}

/**
 * A fault that reports success but leaves the entry unfollowable would make
 * the kernel spin in __get_user_pages(); the model stops after this many
 * rounds at one address and reports its own bug (a WARN) instead of hanging.
 */
const MODEL_FAULT_ROUNDS = 16;

function current_fatal(k: Kernel): boolean {
  return k.current !== null && k.current.fatalSignal;
}

/**
 * mm_set_has_pinned_flag(): MMF_HAS_PINNED, set once and never cleared
 * ([LOCK-3], [FAST-1], [ACCT-10]).
 */
export function mm_set_has_pinned_flag(mm: MmStruct): void {
  if (!(mm.flags & MMF_HAS_PINNED)) mm.flags |= MMF_HAS_PINNED;
}

// --- VMA checks ------------------------------------------------------------------------

/**
 * mm/vma.c: vma_needs_dirty_tracking(): shared and writable, and either the
 * vm_ops want write notification (page_mkwrite / pfn_mkwrite) or the file
 * can write back (not VM_PFNMAP, mapping_can_writeback()).
 */
export function vma_needs_dirty_tracking(vma: VmArea): boolean {
  if ((vma.vm_flags & (VM_SHARED | VM_WRITE)) !== (VM_SHARED | VM_WRITE)) return false;
  const ops = vma.vm_ops;
  if (ops && (ops.page_mkwrite !== undefined || ops.pfn_mkwrite !== undefined)) return true;
  if (!vma.vm_file || vma.vm_flags & VM_PFNMAP) return false;
  return vma.vm_file.canWriteback;
}

/**
 * writable_file_mapping_allowed(): only a FOLL_PIN|FOLL_LONGTERM request
 * can be refused, and only on a VMA that needs dirty tracking.
 */
export function writable_file_mapping_allowed(vma: VmArea, gup_flags: number): boolean {
  if ((gup_flags & (FOLL_PIN | FOLL_LONGTERM)) !== (FOLL_PIN | FOLL_LONGTERM)) return true;
  return !vma_needs_dirty_tracking(vma);
}

/**
 * check_vma_flags(): may GUP touch this VMA with these flags? 0 or -errno,
 * in the kernel's order ([VMA-1] … [VMA-9]). VM_SHADOW_STACK is not
 * modelled (no shadow-stack VMAs); arch_vma_access_permitted() is always
 * true (no protection keys in the model).
 */
export function check_vma_flags(vma: VmArea, gup_flags: number): number {
  const vm_flags = vma.vm_flags;
  const write = (gup_flags & FOLL_WRITE) !== 0;
  const vma_anon = vma.isAnonymous();
  const kind = vma.vm_ops?.name;
  if (vm_flags & (VM_IO | VM_PFNMAP)) return -EFAULT; // [VMA-1]
  if (gup_flags & FOLL_ANON && !vma_anon) return -EFAULT; // [VMA-2]
  if (gup_flags & FOLL_LONGTERM && kind === "fsdax") return -EOPNOTSUPP; // [VMA-3]
  if (gup_flags & FOLL_SPLIT_PMD && vma.isHugetlb()) return -EOPNOTSUPP; // [VMA-4]
  if (kind === "secretmem") return -EFAULT; // [VMA-5]
  if (write) {
    if (!vma_anon && !writable_file_mapping_allowed(vma, gup_flags)) return -EFAULT; // [VMA-6]
    if (!(vm_flags & VM_WRITE)) {
      // [VMA-7] FOLL_FORCE may write only into COW mappings: a write,force
      // into a read-only *shared* mapping used to COW anon pages into it.
      if (!(gup_flags & FOLL_FORCE)) return -EFAULT;
      if (!is_cow_mapping(vm_flags)) return -EFAULT;
    }
  } else if (!(vm_flags & VM_READ)) {
    // [VMA-8]
    if (!(gup_flags & FOLL_FORCE)) return -EFAULT;
    if (!(vm_flags & VM_MAYREAD)) return -EFAULT;
  }
  return 0;
}

/**
 * gup_vma_lookup(): the VMA containing addr. GUP never grows the stack
 * (since 6.5): an address up to 64 KiB below a VM_GROWSDOWN VMA gets the
 * kernel's rate-limited pr_warn (a trace event here) and still fails ([SLOW-2]).
 */
export function gup_vma_lookup(k: Kernel, mm: MmStruct, addr: number): VmArea | null {
  const vma = mm.find_vma(addr);
  if (!vma || addr >= vma.vm_start) return vma;
  if (vma.vm_flags & VM_GROWSDOWN && vma.vm_start - addr <= 65536 && k.trace.enabled)
    k.trace.emit("gup_no_stack_growth", "mm/gup.c: gup_vma_lookup()", {
      mm: mm.id,
      addr,
      vm_start: vma.vm_start,
    });
  return null;
}

// --- faulting ---------------------------------------------------------------------------------

/** include/linux/mm.h: vm_fault_to_errno() */
export function vm_fault_to_errno(vm_fault: number, foll_flags: number): number {
  if (vm_fault & VM_FAULT.OOM) return -ENOMEM;
  if (vm_fault & (VM_FAULT.HWPOISON | VM_FAULT.HWPOISON_LARGE))
    return foll_flags & FOLL_HWPOISON ? -EHWPOISON : -EFAULT;
  if (vm_fault & (VM_FAULT.SIGBUS | VM_FAULT.SIGSEGV)) return -EFAULT;
  return 0;
}

/**
 * faultin_page() ([FLT-1] … [FLT-4]): run the fault a follow asked for.
 * Returns 0 (retry the follow), -EFAULT/-ENOMEM/-EHWPOISON, -EBUSY
 * (VM_FAULT_RETRY; lock dropped unless FOLL_NOWAIT) or -EAGAIN
 * (VM_FAULT_COMPLETED; lock dropped). FAULT_FLAG_USER is never set.
 */
export function faultin_page(
  k: Kernel,
  vma: VmArea,
  address: number,
  flags: number,
  unshare: boolean,
  locked: GupLocked,
): number {
  if (flags & FOLL_NOFAULT) return -EFAULT;
  let fault_flags = 0;
  if (flags & FOLL_WRITE) fault_flags |= FAULT_FLAG.WRITE;
  if (flags & FOLL_REMOTE) fault_flags |= FAULT_FLAG.REMOTE;
  if (flags & FOLL_UNLOCKABLE) {
    fault_flags |= FAULT_FLAG.ALLOW_RETRY | FAULT_FLAG.KILLABLE;
    // opt-in: callers must be ready for early exits on non-fatal signals
    if (flags & FOLL_INTERRUPTIBLE) fault_flags |= FAULT_FLAG.INTERRUPTIBLE;
  }
  if (flags & FOLL_NOWAIT) fault_flags |= FAULT_FLAG.ALLOW_RETRY | FAULT_FLAG.RETRY_NOWAIT;
  if (flags & FOLL_TRIED) fault_flags |= FAULT_FLAG.TRIED;
  if (unshare) {
    fault_flags |= FAULT_FLAG.UNSHARE;
    if (fault_flags & FAULT_FLAG.WRITE)
      k.warn("mm/gup.c: faultin_page()", "FAULT_FLAG_WRITE with FAULT_FLAG_UNSHARE");
  }
  if (k.trace.enabled && unshare)
    k.trace.emit("gup_unshare", "mm/gup.c: faultin_page()", { mm: vma.vm_mm.id, addr: address });
  const ret = handle_mm_fault(k, vma, address, fault_flags);
  if (ret & VM_FAULT.COMPLETED) {
    if (fault_flags & FAULT_FLAG.RETRY_NOWAIT)
      k.warn("mm/gup.c: faultin_page()", "VM_FAULT_COMPLETED with FAULT_FLAG_RETRY_NOWAIT");
    locked.value = 0;
    return -EAGAIN;
  }
  if (ret & VM_FAULT_ERROR) {
    const err = vm_fault_to_errno(ret, flags);
    if (err) return err;
    k.bug("mm/gup.c: faultin_page()", `fault returned 0x${ret.toString(16)} with no errno`);
    return -EFAULT;
  }
  if (ret & VM_FAULT.RETRY) {
    if (!(fault_flags & FAULT_FLAG.RETRY_NOWAIT)) locked.value = 0;
    return -EBUSY;
  }
  return 0;
}

// --- the page loop --------------------------------------------------------------------------

/**
 * __get_user_pages(): walk [start, start + nr_pages pages) of mm, faulting
 * as needed, grabbing each page per gup_flags and storing it at
 * pages[off + i]. Returns the pages processed if any, else the error or 0
 * (0 only when a fault asked for a retry) — partial success wins
 * ([SLOW-1]). start is not aligned ([ARG-12]). The gate area (x86-64
 * vsyscall page, [SLOW-5]) is not mapped in the model: such addresses have
 * no VMA and get -EFAULT, which is also what get_gate_page() answers for
 * writes and for pages it cannot find.
 */
export function __get_user_pages(
  k: Kernel,
  mm: MmStruct,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages | null,
  off: number,
  locked: GupLocked,
): number {
  if (!nr_pages) return 0;
  if (k.config.kconfig.DEBUG_VM) {
    // [ARG-13]
    if ((pages !== null) !== ((gup_flags & (FOLL_GET | FOLL_PIN)) !== 0))
      k.warn("mm/gup.c: __get_user_pages()", "pages and FOLL_GET/FOLL_PIN disagree");
    if ((gup_flags & (FOLL_GET | FOLL_PIN)) === (FOLL_GET | FOLL_PIN))
      k.warn("mm/gup.c: __get_user_pages()", "FOLL_GET and FOLL_PIN together");
  }
  let ret = 0;
  let i = 0;
  let vma: VmArea | null = null;
  outer: do {
    if (!vma || start >= vma.vm_end) {
      if (gup_flags & FOLL_MADV_POPULATE) {
        // [SLOW-3]: MADV_POPULATE_(READ|WRITE) report VMA problems their own way
        vma = mm.vma_lookup(start);
        if (!vma) {
          ret = -ENOMEM;
          break;
        }
        if (check_vma_flags(vma, gup_flags)) {
          ret = -EINVAL;
          break;
        }
      } else {
        vma = gup_vma_lookup(k, mm, start); // [SLOW-2]
        if (!vma) {
          ret = -EFAULT; // [SLOW-6]
          break;
        }
        ret = check_vma_flags(vma, gup_flags);
        if (ret) break;
      }
    }
    let page = 0;
    for (let rounds = 0; ; rounds++) {
      // [SLOW-4]: don't keep faulting and allocating for a task being killed
      if (current_fatal(k)) {
        ret = -EINTR;
        break outer;
      }
      page = follow_page_mask(k, vma, start, gup_flags);
      if (page === FOLLOW_NULL || page === -EMLINK_INTERNAL) {
        ret = faultin_page(k, vma, start, gup_flags, page === -EMLINK_INTERNAL, locked);
        if (ret === 0) {
          if (rounds < MODEL_FAULT_ROUNDS) continue;
          k.warn(
            "mm/gup.c: __get_user_pages()",
            `model: ${MODEL_FAULT_ROUNDS} faults at ${start.toString(16)} made no progress (${formatFoll(gup_flags)})`,
          );
          ret = -EFAULT;
          break outer;
        }
        if (ret === -EBUSY || ret === -EAGAIN) ret = 0;
        break outer; // 0, -EFAULT, -ENOMEM, -EHWPOISON
      } else if (page === -EEXIST) {
        // a pfn without a struct page: only a failure if pages[] must be filled
        if (pages) {
          ret = -EEXIST;
          break outer;
        }
      } else if (page < 0) {
        ret = page;
        break outer;
      }
      break;
    }
    // next_page: [SLOW-10]
    const span = pageMask + 1;
    let page_increm = span - (Math.floor(start / PAGE_SIZE) % span);
    if (page_increm > nr_pages) page_increm = nr_pages;
    if (pages) {
      if (page_increm > 1) {
        // the rest of a huge mapping: one grab for the other subpages
        const folio = k.memmap.head(page);
        if (try_grab_folio(k, folio, page_increm - 1, gup_flags)) {
          gup_put_folio(k, folio, 1, gup_flags);
          ret = -EFAULT;
          break;
        }
      }
      fill_subpages(pages, off + i, page, page_increm);
    }
    i += page_increm;
    start += page_increm * PAGE_SIZE;
    nr_pages -= page_increm;
  } while (nr_pages);
  return i ? i : ret;
}

/** gup_signal_pending(): fatal signals always; other signals with FOLL_INTERRUPTIBLE. */
function gup_signal_pending(k: Kernel, flags: number): boolean {
  const t = k.current;
  if (!t) return false;
  if (t.fatalSignal) return true;
  if (!(flags & FOLL_INTERRUPTIBLE)) return false;
  return t.signalPending;
}

/** Model guard on the VM_FAULT_RETRY loop: a handler that never completes would hang the kernel too. */
const MODEL_RETRY_ROUNDS = 64;

/**
 * __get_user_pages_locked() ([LOCK-1] … [LOCK-10]): take the lock if the
 * caller did not, set MMF_HAS_PINNED for FOLL_PIN, add FOLL_GET when pages
 * are wanted without FOLL_PIN, and run __get_user_pages() with the
 * VM_FAULT_RETRY protocol. Returns the pages done, or -errno; 0 only with
 * FOLL_NOWAIT. `locked` comes back 0 if the lock was released.
 */
export function __get_user_pages_locked(
  k: Kernel,
  mm: MmStruct,
  start: number,
  nr_pages: number,
  pages: GupPages | null,
  off: number,
  locked: GupLocked,
  flags: number,
): number {
  if (!nr_pages) return 0; // [LOCK-1]
  let must_unlock = false;
  if (!locked.value) {
    // [LOCK-2] mmap_read_lock_killable(): uncontended in the model, so it cannot fail
    must_unlock = true;
    locked.value = 1;
  }
  if (flags & FOLL_PIN) mm_set_has_pinned_flag(mm); // [LOCK-3]
  if (pages && !(flags & FOLL_PIN)) flags |= FOLL_GET; // [LOCK-4]
  let pages_done = 0;
  let ret = 0;
  outer: for (;;) {
    ret = __get_user_pages(k, mm, start, nr_pages, flags, pages, off, locked);
    if (!(flags & FOLL_UNLOCKABLE)) {
      pages_done = ret; // [LOCK-5]
      break;
    }
    if (ret > 0) {
      nr_pages -= ret;
      pages_done += ret;
      if (!nr_pages) break;
    }
    if (locked.value) {
      // [LOCK-6]: no retry happened, or it was FOLL_NOWAIT
      if (!pages_done) pages_done = ret;
      break;
    }
    // [LOCK-7]: the fault handler dropped the lock; seek to the faulting page
    const advanced = ret > 0 ? ret : 0;
    off += advanced;
    start += advanced * PAGE_SIZE;
    must_unlock = true;
    for (let rounds = 0; ; rounds++) {
      if (gup_signal_pending(k, flags)) {
        // [LOCK-8]
        if (!pages_done) pages_done = -EINTR;
        break outer;
      }
      if (rounds >= MODEL_RETRY_ROUNDS) {
        k.warn(
          "mm/gup.c: __get_user_pages_locked()",
          `model: VM_FAULT_RETRY ${rounds} times at ${start.toString(16)}`,
        );
        if (!pages_done) pages_done = -EFAULT;
        break outer;
      }
      locked.value = 1;
      ret = __get_user_pages(k, mm, start, 1, flags | FOLL_TRIED, pages, off, locked);
      if (!locked.value) {
        if (ret !== 0)
          k.warn("mm/gup.c: __get_user_pages_locked()", `retry returned ${ret} with the lock dropped`);
        continue;
      }
      break;
    }
    if (ret !== 1) {
      if (!pages_done) pages_done = ret;
      break;
    }
    nr_pages--;
    pages_done++;
    if (!nr_pages) break;
    off++;
    start += PAGE_SIZE;
  }
  if (must_unlock && locked.value) locked.value = 0; // [LOCK-9]
  if (pages_done === 0 && !(flags & FOLL_NOWAIT)) {
    // [LOCK-10]
    k.warn("mm/gup.c: __get_user_pages_locked()", "no page done and no error");
    return -EFAULT;
  }
  return pages_done;
}
