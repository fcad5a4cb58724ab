/**
 * /proc/PID/mem (fs/proc/base.c: mem_open(), mem_rw()): reads and writes
 * of another process's memory through access_remote_vm() with FOLL_FORCE
 * (CONFIG_PROC_MEM_ALWAYS_FORCE), taking FOLL_GET references a page at a
 * time. A write to a PROT_READ private mapping succeeds by COW and leaves
 * the file untouched; to a read-only MAP_SHARED mapping it is -EIO.
 */
import { EACCES, EIO } from "../include/errno.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import type { FileRef, Task } from "../kernel/task.js";
import { mem_rw } from "../mm/gup_remote.js";
import { copy_from_user, copy_to_user } from "./direct_io.js";
import { ptrace_may_access } from "./process_vm.js";

export class ProcMemFile implements FileRef {
  readonly kind = "proc_mem";
  constructor(
    readonly target: Task,
    readonly flags: number,
  ) {}
  dup(): FileRef {
    return this;
  }
  release(): void {}
}

/** "/proc/self/mem" or "/proc/<pid>/mem" → the target pid, else null. */
export function proc_mem_target(path: string, self: number): number | null {
  const m = /^\/proc\/(self|\d+)\/mem$/.exec(path);
  if (!m) return null;
  return m[1] === "self" ? self : Number(m[1]);
}

/** mem_open(): PTRACE_MODE_ATTACH on the target. */
export function proc_mem_open(k: Kernel, task: Task, targetPid: number, flags: number): number {
  const target = k.tasks.get(targetPid);
  if (!target || !target.mm) return -2; // -ENOENT
  if (!ptrace_may_access(task, target)) return -EACCES;
  return task.allocFd(new ProcMemFile(target, flags));
}

/** pwrite(fd, src, len, addr): copy len bytes from the caller's src into the target at addr. */
export function proc_mem_write(
  k: Kernel,
  task: Task,
  f: ProcMemFile,
  src: number,
  len: number,
  addr: number,
): number {
  if (!f.target.mm) return 0;
  const data = copy_from_user(k, task, src, len);
  if (typeof data === "number") return data;
  // mem_rw() copies a page at a time; buf is indexed by target page
  const buf = data.slice();
  const r = mem_rw(k, f.target.mm, addr, buf, len, true);
  return r === 0 && len ? -EIO : r;
}

/** pread(fd, dst, len, addr): copy from the target into the caller's dst. */
export function proc_mem_read(
  k: Kernel,
  task: Task,
  f: ProcMemFile,
  dst: number,
  len: number,
  addr: number,
): number {
  if (!f.target.mm) return 0;
  const buf: number[] = new Array<number>(Math.ceil(len / PAGE_SIZE) + 1).fill(0);
  const r = mem_rw(k, f.target.mm, addr, buf, len, false);
  if (r <= 0) return r;
  const c = copy_to_user(k, task, dst, buf.slice(0, Math.ceil(r / PAGE_SIZE)));
  return c < 0 ? c : r;
}
