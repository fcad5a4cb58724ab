/**
 * Process exit (kernel/exit.c: do_exit() → exit_mm() → mmput() → exit_mmap()):
 * every VMA is unmapped, which drops the mappings' references; pinned pages
 * survive as long as their pins (a pin taken on this mm is not released by exit).
 */
import type { Kernel } from "../kernel.js";
import type { MmStruct } from "../mm/mm_types.js";
import { remove_vma } from "../mm/mmap.js";
import type { Task } from "./task.js";

export function exit_mmap(k: Kernel, mm: MmStruct): void {
  for (const v of [...mm.vmas].reverse()) remove_vma(k, v);
}

/** do_exit(): release the mm (once its last user is gone) and the file table. */
export function do_exit(k: Kernel, task: Task, code: number): void {
  if (task.state !== "running") return;
  task.flags |= 0x4; // PF_EXITING
  const mm = task.mm;
  task.mm = null;
  if (mm && --mm.mm_users === 0) exit_mmap(k, mm);
  for (const f of task.files.values()) f.release();
  task.files.clear();
  task.state = "zombie";
  task.exitCode = code;
  k.trace.emit("exit", "kernel/exit.c: do_exit()", { pid: task.pid, code });
}
