/**
 * struct file as the rest of the model sees it: what an fd refers to and
 * what mmap() asks of it (->mmap / f_op->mmap_prepare). File systems
 * implement it in this folder.
 */
import type { Kernel } from "../kernel.js";
import type { FileRef } from "../kernel/task.js";
import type { VmArea } from "../mm/mm_types.js";

export type FileKind =
  "regular" | "directory" | "memfd" | "secretmem" | "proc_mem" | "pipe" | "io_uring" | "other";

export interface OpenFile extends FileRef {
  readonly kind: FileKind;
  /** O_* flags the file was opened with */
  readonly flags: number;
  /** FMODE_READ / FMODE_WRITE */
  readonly readable: boolean;
  readonly writable: boolean;
  /**
   * f_op->mmap(): attach vm_ops and vm_file to a new VMA (vm_pgoff already set).
   * Returns 0 or -errno (-ENODEV when the file cannot be mapped).
   */
  mmap(k: Kernel, vma: VmArea): number;
}
