/**
 * Open files and the syscalls on them that are not read/write
 * (fs/open.c, fs/namei.c: do_sys_open() → path_openat() → do_open(),
 * fs/file.c: close_fd(), fs/sync.c: vfs_fsync_range()).
 *
 * Permissions: root (uid 0) passes every check (CAP_DAC_OVERRIDE);
 * others are checked against the owner or "other" bits of the mode (no
 * groups). A file created by this open() is opened without a permission
 * check, as the kernel does (FMODE_CREATED).
 */
import {
  EACCES,
  EBADF,
  EEXIST,
  EFBIG,
  EINVAL,
  EISDIR,
  ENODEV,
  ENOENT,
  EOPNOTSUPP,
  ESPIPE,
} from "../include/errno.js";
import {
  O_ACCMODE,
  O_CREAT,
  O_DIRECT,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
} from "../include/mman.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import type { VmArea } from "../mm/mm_types.js";
import { LLONG_MAX } from "../mm/truncate.js";
import {
  FALLOC_FL_ALLOCATE_RANGE,
  FALLOC_FL_COLLAPSE_RANGE,
  FALLOC_FL_INSERT_RANGE,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_MODE_MASK,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_UNSHARE_RANGE,
  FALLOC_FL_WRITE_ZEROES,
  FALLOC_FL_ZERO_RANGE,
} from "./falloc.js";
import type { FileKind, OpenFile } from "./file.js";
import { type Inode, iput_final, vfs } from "./inode.js";
import { check_parent, check_path } from "./namei.js";
import { fs_new_inode, sb_of_path } from "./super.js";

/** include/linux/fs.h: MAX_LFS_FILESIZE on 64-bit */
export const MAX_LFS_FILESIZE = Number.MAX_SAFE_INTEGER;
/** MAY_* access bits (include/linux/fs.h) */
const MAY_WRITE = 0x2;
const MAY_READ = 0x4;

/**
 * struct file for the model's file systems. Descriptors share it across
 * fork (dup()); the last release() drops the inode's open count, which may
 * evict an unnamed, unmapped inode.
 */
export class FsFile implements OpenFile {
  /** f_pos */
  pos = 0;
  readonly readable: boolean;
  readonly writable: boolean;
  private refs = 1;
  constructor(
    private readonly k: Kernel,
    readonly kind: FileKind,
    /** null for a directory */
    readonly inode: Inode | null,
    readonly flags: number,
    readonly path: string | null = null,
  ) {
    // OPEN_FMODE(): O_RDONLY → read, O_WRONLY → write, O_RDWR → both, 3 → neither
    const acc = flags & O_ACCMODE;
    this.readable = acc === O_RDONLY || acc === O_RDWR;
    this.writable = acc === O_WRONLY || acc === O_RDWR;
    if (inode) inode.openCount++;
  }

  /** f_op->mmap; a directory has none (-ENODEV). */
  mmap(k: Kernel, vma: VmArea): number {
    if (!this.inode) return -ENODEV;
    return this.inode.ops.mmap(k, this.inode, vma, this.writable);
  }

  /** fput(): the last reference releases the file (__fput()). */
  release(): void {
    if (--this.refs > 0 || !this.inode) return;
    const inode = this.inode;
    inode.openCount--;
    inode.ops.release?.(this.k, inode);
    iput_final(this.k, inode);
  }

  /** get_file() */
  dup(): FsFile {
    this.refs++;
    return this;
  }
}

/** The FsFile of a descriptor, or -EBADF (also for files of other subsystems: pipes, io_uring). */
export function fd_file(task: Task, fd: number): FsFile | number {
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  return f instanceof FsFile ? f : -EINVAL;
}

/** file_inode() of a descriptor: the inode, or -EBADF / -EINVAL / -EISDIR. */
export function fd_inode(task: Task, fd: number): Inode | number {
  const f = fd_file(task, fd);
  if (typeof f === "number") return f;
  return f.inode ?? -EISDIR;
}

/** inode_permission() in the model: root passes, others need the owner/other bits. */
function may_access(task: Task, inode: Inode, mask: number): boolean {
  if (task.uid === 0) return true;
  const bits = task.uid === inode.uid ? (inode.mode >> 6) & 7 : inode.mode & 7;
  if (mask & MAY_READ && !(bits & 4)) return false;
  if (mask & MAY_WRITE && !(bits & 2)) return false;
  return true;
}

/**
 * open(path, flags, mode): O_CREAT (with O_EXCL: -EEXIST if it exists),
 * O_TRUNC (needs write permission; truncates to 0), O_DIRECT (-EINVAL on
 * file systems without direct I/O: hugetlbfs). Directories open read-only
 * (-EISDIR for write access or O_CREAT). Missing parent: -ENOENT; no file
 * system at the path: -ENOENT. Returns the new descriptor.
 */
export function sys_open(k: Kernel, task: Task, path: string, flags: number, mode = 0o644): number {
  const p = check_path(path);
  if (typeof p === "number") return p;
  const v = vfs(k);
  const acc = flags & O_ACCMODE;
  // build_open_flags(): O_TRUNC asks for write access
  let accMode =
    (acc === O_RDONLY ? MAY_READ : acc === O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE) |
    (flags & O_TRUNC ? MAY_WRITE : 0);
  if (v.dirs.has(p)) {
    if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return -EEXIST;
    // may_open(): S_IFDIR with MAY_WRITE; open_last_lookups(): O_CREAT on a directory
    if (accMode & MAY_WRITE || flags & O_CREAT) return -EISDIR;
    return task.allocFd(new FsFile(k, "directory", null, flags, p));
  }
  let inode = v.dentries.get(p);
  let created = false;
  if (inode) {
    if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return -EEXIST;
  } else {
    const r = check_parent(k, p);
    if (r) return r;
    if (!(flags & O_CREAT)) return -ENOENT;
    const sb = sb_of_path(k, p);
    if (!sb) return -ENOENT;
    inode = fs_new_inode(k, sb, mode & 0o7777 & ~0o022, task.uid);
    inode.nlink = 1;
    inode.path = p;
    v.dentries.set(p, inode);
    created = true;
    k.trace.emit("file_create", "fs/namei.c: lookup_open()", { path: p, inode: inode.id, fs: sb.type });
  }
  // do_open(): a file we just created is opened without permission checks and not truncated
  if (created) accMode = 0;
  if (!may_access(task, inode, accMode)) return -EACCES;
  // do_dentry_open(): O_DIRECT needs FMODE_CAN_ODIRECT
  if (flags & O_DIRECT && !inode.ops.canDirectIO) return -EINVAL;
  if (flags & O_TRUNC && !created) {
    const r = inode.ops.setsize(k, inode, 0);
    if (r) return r;
  }
  return task.allocFd(new FsFile(k, "regular", inode, flags, p));
}

/** close(fd): 0 or -EBADF. Works for any file in the table. */
export function sys_close(_k: Kernel, task: Task, fd: number): number {
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  task.files.delete(fd);
  f.release();
  return 0;
}

/**
 * ftruncate(fd, length) (fs/open.c: do_ftruncate()): the file must be a
 * regular file opened for writing (-EINVAL otherwise, -EBADF for a bad fd).
 * Shrinking truncates the page cache whatever pins there are (P8).
 */
export function sys_ftruncate(k: Kernel, task: Task, fd: number, length: number): number {
  if (length < 0 || !Number.isSafeInteger(length)) return -EINVAL;
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  if (!(f instanceof FsFile) || !f.inode || !f.writable) return -EINVAL;
  return do_truncate(k, f.inode, length);
}

/** do_truncate() → notify_change(ATTR_SIZE) → ->setattr. */
export function do_truncate(k: Kernel, inode: Inode, length: number): number {
  if (length > MAX_LFS_FILESIZE) return -EFBIG;
  const old = inode.i_size;
  const r = inode.ops.setsize(k, inode, length);
  if (r === 0)
    k.trace.emit("truncate", "fs/open.c: do_truncate()", { inode: inode.id, from: old, to: length });
  return r;
}

/**
 * vfs_fallocate(): mode checks (PUNCH_HOLE needs KEEP_SIZE; unknown modes
 * -EOPNOTSUPP), the file opened for writing (-EBADF), then ->fallocate.
 */
export function vfs_fallocate(k: Kernel, file: FsFile, mode: number, offset: number, len: number): number {
  if (offset < 0 || len <= 0) return -EINVAL;
  if (mode & ~(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
  switch (mode & FALLOC_FL_MODE_MASK) {
    case FALLOC_FL_ALLOCATE_RANGE:
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
      break;
    case FALLOC_FL_PUNCH_HOLE:
      if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
      break;
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case FALLOC_FL_WRITE_ZEROES:
      if (mode & FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP;
      break;
    default:
      return -EOPNOTSUPP;
  }
  if (!file.writable) return -EBADF;
  const inode = file.inode;
  if (!inode) return -EISDIR;
  if (offset + len > MAX_LFS_FILESIZE) return -EFBIG;
  if (!inode.ops.fallocate) return -EOPNOTSUPP;
  const r = inode.ops.fallocate(k, inode, mode, offset, len);
  if (r === 0)
    k.trace.emit("fallocate", "fs/open.c: vfs_fallocate()", { inode: inode.id, mode, offset, len });
  return r;
}

/** fallocate(fd, mode, offset, len) */
export function sys_fallocate(
  k: Kernel,
  task: Task,
  fd: number,
  mode: number,
  offset: number,
  len: number,
): number {
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  // vfs_fallocate(): S_ISFIFO → -ESPIPE, anything but a regular file → -ENODEV
  if (!(f instanceof FsFile)) return f.kind === "pipe" ? -ESPIPE : -ENODEV;
  return vfs_fallocate(k, f, mode, offset, len);
}

/**
 * fsync(fd) (fs/sync.c: vfs_fsync_range() → f_op->fsync): write back and
 * wait for the whole file; -EINVAL for files without ->fsync (secretmem,
 * directories here).
 */
export function sys_fsync(k: Kernel, task: Task, fd: number): number {
  const f = fd_file(task, fd);
  if (typeof f === "number") return f;
  if (!f.inode || !f.inode.ops.fsync) return -EINVAL;
  const r = f.inode.ops.fsync(k, f.inode, 0, LLONG_MAX);
  k.trace.emit("fsync", "fs/sync.c: vfs_fsync_range()", { inode: f.inode.id, ret: r });
  return r;
}

/** fdatasync(fd): the same as fsync() in the model (no metadata). */
export function sys_fdatasync(k: Kernel, task: Task, fd: number): number {
  return sys_fsync(k, task, fd);
}
