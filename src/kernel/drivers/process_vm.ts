/**
 * process_vm_readv()/process_vm_writev() (mm/process_vm_access.c:
 * process_vm_rw_core(), process_vm_rw_single_vec(), process_vm_rw_pages()):
 * the remote side is pinned short-term with pin_user_pages_remote(), up to
 * PVM_MAX_PP_ARRAY_COUNT pages at a time, FOLL_WRITE for writev, copied, and
 * released with unpin_user_pages_dirty_lock(). No FOLL_FORCE: a read-only
 * target is -EFAULT for writev. A R/O pin of a COW-shared page unshares it
 * in the target. The result is the bytes copied before the first failure;
 * an error only if nothing was copied.
 */
import { EFAULT, EINVAL, EPERM, ESRCH } from "../include/errno.js";
import { FOLL_WRITE } from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import { ptrace_may_access } from "../kernel/ptrace.js";
import type { Task } from "../kernel/task.js";
import { pin_user_pages_remote } from "../mm/gup.js";
import { user_access } from "../mm/user_access.js";
import { pin_table } from "./pin_table.js";
import { driver_release } from "./pin_user.js";

/** PVM_MAX_PP_ARRAY_COUNT */
const PVM_MAX_PP_ARRAY_COUNT = 16;

// ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) lives in kernel/ptrace.ts
export { ptrace_may_access };

export function process_vm_rw(
  k: Kernel,
  caller: Task,
  targetPid: number,
  local: number,
  llen: number,
  remote: number,
  rlen: number,
  flags: number,
  write: boolean,
): number {
  if (flags !== 0) return -EINVAL;
  const target = k.tasks.get(targetPid);
  if (!target || target.state !== "running" || !target.mm) return -ESRCH;
  if (!ptrace_may_access(caller, target)) return -EPERM;
  const total = Math.min(llen, rlen);
  let copied = 0;
  let rc = 0;
  let pa = Math.floor(remote / PAGE_SIZE) * PAGE_SIZE;
  const end = remote + total;
  const pages = new Int32Array(PVM_MAX_PP_ARRAY_COUNT);
  while (pa < end && !rc) {
    const nr = Math.min(PVM_MAX_PP_ARRAY_COUNT, Math.ceil((end - pa) / PAGE_SIZE));
    const pinned = k.asTask(caller, () =>
      pin_user_pages_remote(k, target.mm!, pa, nr, write ? FOLL_WRITE : 0, pages),
    );
    if (pinned <= 0) {
      rc = -EFAULT;
      break;
    }
    const rec = pin_table(k).add({
      owner: write ? "process_vm_writev" : "process_vm_readv",
      api: "pin_user_pages_remote",
      flags: write ? FOLL_WRITE : 0,
      pid: target.pid,
      start: pa,
      nrPages: pinned,
      pages: pages.slice(0, pinned),
      kind: "pin",
      longterm: false,
    });
    for (let i = 0; i < pinned && !rc; i++) {
      // the part of [remote, end) this page holds, and where it goes locally
      const ps = pa + i * PAGE_SIZE;
      const s = Math.max(ps, remote);
      const e = Math.min(ps + PAGE_SIZE, end);
      // copy_page_to_iter() / copy_page_from_iter(): the local side faults as a user access would
      const lp = k.asTask(caller, () => user_access(k, caller.mm!, local + (s - remote), !write));
      if (lp < 0) {
        rc = -EFAULT;
        break;
      }
      if (write) k.memmap.setContent(pages[i], k.memmap.content(lp));
      else k.memmap.setContent(lp, k.memmap.content(pages[i]));
      copied += e - s;
    }
    // unpin_user_pages_dirty_lock(pages, pinned, write), as every pin's release: traced
    driver_release(k, rec, write);
    pa += pinned * PAGE_SIZE;
    if (pinned < nr) rc = -EFAULT;
  }
  k.trace.emit(
    write ? "process_vm_writev" : "process_vm_readv",
    "mm/process_vm_access.c: process_vm_rw_core()",
    {
      caller: caller.pid,
      target: target.pid,
      copied,
      rc,
    },
  );
  return copied ? copied : rc;
}
