/**
 * Access to another process's memory through GUP references:
 * __access_remote_vm() (mm/memory.c) and its users access_remote_vm(),
 * access_process_vm() and /proc/PID/mem's mem_rw() (fs/proc/base.c).
 *
 * Content: a page's bytes are one content word in the model, so `buf`
 * holds one word per page touched, in address order, indexed from the
 * page of the first address: reads fill it, writes store it (writing part
 * of a page replaces the page's word). Lengths and return values are bytes.
 *
 * Not modelled: stack expansion (expand_stack(): an address below the stack
 * VMA is simply unmapped), vm_ops->access (device memory of VM_IO/VM_PFNMAP
 * VMAs: those transfer 0 bytes), PROC_MEM_FORCE_PTRACE (the reference
 * kernel has CONFIG_PROC_MEM_ALWAYS_FORCE: /proc/PID/mem always forces).
 */
import { EINVAL, EIO } from "../include/errno.js";
import { FOLL_FORCE, FOLL_NOWAIT, FOLL_WRITE } from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import { get_user_pages_remote } from "./gup.js";
import { PAGE_NULL, put_page } from "./gup_refs.js";
import type { MmStruct, VmArea } from "./mm_types.js";
import { folio_mark_dirty } from "./page_writeback.js";
import { PG } from "../include/page_flags.js";

/** The page and VMA of get_user_page_vma_remote(), or an error. */
export interface PageVma {
  /** pfn, or -errno */
  page: number;
  vma: VmArea | null;
}

/**
 * get_user_page_vma_remote() (include/linux/mm.h): one page of mm with a
 * FOLL_GET reference, and its VMA. FOLL_NOWAIT is refused with a WARN and
 * -EINVAL ([ARG-9]).
 */
export function get_user_page_vma_remote(k: Kernel, mm: MmStruct, addr: number, gup_flags: number): PageVma {
  if (gup_flags & FOLL_NOWAIT) {
    k.warn("include/linux/mm.h: get_user_page_vma_remote()", "FOLL_NOWAIT");
    return { page: -EINVAL, vma: null };
  }
  const page: number[] = [PAGE_NULL];
  const got = get_user_pages_remote(k, mm, addr, 1, gup_flags, page, null);
  if (got < 0) return { page: got, vma: null };
  const vma = mm.vma_lookup(addr);
  if (!vma) {
    k.warn("include/linux/mm.h: get_user_page_vma_remote()", "page without a VMA");
    put_page(k, page[0]);
    return { page: -EINVAL, vma: null };
  }
  return { page: page[0], vma };
}

/** __access_remote_vm() with the buffer's first page given (bufPage0: page number of buf[0]). */
function __access_remote_vm(
  k: Kernel,
  mm: MmStruct,
  addr: number,
  buf: number[],
  bufPage0: number,
  len: number,
  gup_flags: number,
): number {
  const write = (gup_flags & FOLL_WRITE) !== 0;
  // mmap_read_lock_killable() cannot fail in the model; the first page needs a
  // VMA (expand_stack() is not modelled)
  if (!mm.vma_lookup(addr)) return 0;
  let done = 0;
  while (len > 0) {
    const r = get_user_page_vma_remote(k, mm, addr, gup_flags);
    let bytes: number;
    if (r.page < 0) {
      // no VMA: expand_stack() would be tried; VM_IO/VM_PFNMAP: vm_ops->access()
      bytes = 0;
      if (k.trace.enabled)
        k.trace.emit("access_remote_vm_stop", "mm/memory.c: __access_remote_vm()", {
          mm: mm.id,
          addr,
          err: r.page,
        });
      break;
    }
    const offset = addr % PAGE_SIZE;
    bytes = Math.min(len, PAGE_SIZE - offset);
    const idx = Math.floor(addr / PAGE_SIZE) - bufPage0;
    const page = r.page;
    if (write) {
      k.memmap.setContent(page, buf[Math.min(idx, buf.length - 1)] ?? 0);
      // folio_mark_dirty_lock()
      const folio = k.memmap.head(page);
      if (!k.memmap.test(folio, PG.dirty)) folio_mark_dirty(k, folio);
    } else {
      buf[idx] = k.memmap.content(page);
    }
    put_page(k, page);
    len -= bytes;
    addr += bytes;
    done += bytes;
  }
  return done;
}

/**
 * access_remote_vm(): read or write (FOLL_WRITE) len bytes of mm at addr
 * through get_user_pages_remote() references. Returns the bytes
 * transferred; errors only show as short counts.
 */
export function access_remote_vm(
  k: Kernel,
  mm: MmStruct,
  addr: number,
  buf: number[],
  len: number,
  gup_flags: number,
): number {
  return __access_remote_vm(k, mm, addr, buf, Math.floor(addr / PAGE_SIZE), len, gup_flags);
}

/** access_process_vm(): access_remote_vm() on a task's mm (0 bytes if it has none). */
export function access_process_vm(
  k: Kernel,
  tsk: Task,
  addr: number,
  buf: number[],
  len: number,
  gup_flags: number,
): number {
  if (!tsk.mm) return 0;
  return access_remote_vm(k, tsk.mm, addr, buf, len, gup_flags);
}

/**
 * mem_rw() (fs/proc/base.c): a read or write of /proc/PID/mem. FOLL_FORCE
 * always (CONFIG_PROC_MEM_ALWAYS_FORCE), FOLL_WRITE for writes, a page-sized
 * chunk at a time. Returns the bytes copied, -EIO if the first chunk
 * transferred nothing, 0 if the mm is gone.
 */
export function mem_rw(
  k: Kernel,
  mm: MmStruct,
  addr: number,
  buf: number[],
  count: number,
  write: boolean,
): number {
  if (mm.mm_users === 0) return 0; // mmget_not_zero()
  const flags = (write ? FOLL_WRITE : 0) | FOLL_FORCE;
  const page0 = Math.floor(addr / PAGE_SIZE);
  let copied = 0;
  while (count > 0) {
    let this_len = Math.min(count, PAGE_SIZE);
    this_len = __access_remote_vm(k, mm, addr, buf, page0, this_len, flags);
    if (!this_len) {
      if (!copied) copied = -EIO;
      break;
    }
    addr += this_len;
    copied += this_len;
    count -= this_len;
  }
  return copied;
}
