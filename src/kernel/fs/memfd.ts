/**
 * memfd_create() (mm/memfd.c — kept with the file systems here because it
 * only creates files): an unnamed tmpfs file, or with MFD_HUGETLB an
 * unnamed hugetlbfs file of the size MFD_HUGE_* encodes (default 2 MiB).
 * Both start empty (size 0, VM_NORESERVE: no huge pages reserved until a
 * shared mmap). Seals are not modelled; MFD_ALLOW_SEALING is accepted.
 */
import { EINVAL, ENODEV } from "../include/errno.js";
import { HPAGE_PMD_SIZE } from "../include/mmzone.js";
import { MFD, O } from "../include/mman.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import { hstateForSize } from "../mm/hugetlb.js";
import { shmem_file_setup } from "../mm/shmem.js";
import { hugetlb_file_create } from "./hugetlbfs.js";
import { FsFile } from "./open.js";

/** mm/memfd.c: MFD_ALL_FLAGS */
export const MFD_ALL_FLAGS =
  MFD.MFD_CLOEXEC | MFD.MFD_ALLOW_SEALING | MFD.MFD_HUGETLB | MFD.MFD_NOEXEC_SEAL | MFD.MFD_EXEC;
/** include/uapi/linux/memfd.h: MFD_HUGE_SHIFT / MFD_HUGE_MASK (= the MAP_HUGE_* encoding) */
export const MFD_HUGE_SHIFT = 26;
export const MFD_HUGE_MASK = 0x3f;
/** mm/memfd.c: MFD_NAME_MAX_LEN = NAME_MAX - strlen("memfd:") */
export const MFD_NAME_MAX_LEN = 255 - 6;

/**
 * memfd_create(name, flags): returns the new descriptor (opened O_RDWR).
 * -EINVAL for unknown flags (huge-size bits only with MFD_HUGETLB), both
 * MFD_EXEC and MFD_NOEXEC_SEAL, or a name longer than 249 bytes; -ENODEV
 * for a huge page size without a pool.
 */
export function memfd_create(k: Kernel, task: Task, name: string, flags: number): number {
  // sanitize_flags()
  if (!(flags & MFD.MFD_HUGETLB)) {
    if (flags & ~MFD_ALL_FLAGS) return -EINVAL;
  } else if (flags & ~(MFD_ALL_FLAGS | ((MFD_HUGE_MASK << MFD_HUGE_SHIFT) >>> 0))) return -EINVAL;
  if (flags & MFD.MFD_EXEC && flags & MFD.MFD_NOEXEC_SEAL) return -EINVAL;
  // alloc_name()
  if (name.length > MFD_NAME_MAX_LEN) return -EINVAL;
  let inode;
  if (flags & MFD.MFD_HUGETLB) {
    // hugetlb_file_setup(name, 0, VM_NORESERVE, HUGETLB_ANONHUGE_INODE, log2 size): get_hstate_idx() < 0 → -ENODEV
    const log2 = (flags >>> MFD_HUGE_SHIFT) & MFD_HUGE_MASK;
    const h = hstateForSize(k, log2 ? 2 ** log2 : HPAGE_PMD_SIZE);
    if (!h) return -ENODEV;
    inode = hugetlb_file_create(k, h, 0);
  } else {
    inode = shmem_file_setup(k, 0);
  }
  inode.path = `/memfd:${name} (deleted)`;
  const fd = task.allocFd(new FsFile(k, "memfd", inode, O.O_RDWR | O.O_LARGEFILE));
  k.trace.emit("memfd_create", "mm/memfd.c: memfd_create()", {
    pid: task.pid,
    fd,
    inode: inode.id,
    hugetlb: (flags & MFD.MFD_HUGETLB) !== 0,
  });
  return fd;
}
