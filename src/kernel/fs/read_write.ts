/**
 * read(), write(), pread64(), pwrite64(), lseek() (fs/read_write.c) and the
 * block side of O_DIRECT.
 *
 * Contents are one word per 4 KiB page, so the model's I/O moves words:
 * write(fd, value, len) stores `value` in every page the byte range
 * touches; read(fd, len) returns the content word of the first page read —
 * 0 at end of file, like an empty read; `vfs_read()` gives the byte count
 * and every page's word.
 *
 * O_DIRECT: these syscalls do direct I/O straight from the given value; the
 * user-memory side of O_DIRECT (pinning the buffer with
 * iov_iter_extract_pages()) belongs to drivers/, which calls
 * `dio_read_blocks()` / `dio_write_blocks()` with what it read from or will
 * write into the pinned pages.
 */
import { EBADF, EINVAL, EISDIR, ESPIPE } from "../include/errno.js";
import { O_DIRECT, O } from "../include/mman.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import type { Inode, ReadResult } from "./inode.js";
import { FsFile } from "./open.js";

/** include/uapi/linux/fs.h: lseek whence */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

/** The logical block size O_DIRECT offsets and lengths must be aligned to (bdev_logical_block_size()). */
export const DIO_ALIGN = 512;

/**
 * The block side of a direct read: nr blocks from index, stopping at EOF,
 * as the file system's direct I/O reads them (dirty cached pages are
 * written back first). Returns the content word of each block read, or
 * -EINVAL for a file system without direct I/O.
 */
export function dio_read_blocks(k: Kernel, inode: Inode, index: number, nr: number): number[] | number {
  if (inode.ops.dio_read_blocks) return inode.ops.dio_read_blocks(k, inode, index, nr);
  if (!inode.ops.canDirectIO || !inode.ops.read_iter) return -EINVAL;
  // tmpfs: O_DIRECT is served from the page cache
  const r = inode.ops.read_iter(k, inode, index * PAGE_SIZE, nr * PAGE_SIZE);
  return typeof r === "number" ? r : r.contents;
}

/**
 * The block side of a direct write: contents[i] goes to block index+i
 * (the page cache of the range is written back and invalidated around the
 * write; a folio that cannot be invalidated makes the write fall back to
 * buffered I/O). i_size grows to endPos (default: the end of the last
 * block). Returns the number of blocks written, or -EINVAL for a file
 * system without direct I/O.
 */
export function dio_write_blocks(
  k: Kernel,
  inode: Inode,
  index: number,
  nr: number,
  contents: readonly number[],
  endPos?: number,
): number {
  const oldSize = inode.i_size;
  const blocks = contents.slice(0, nr);
  let r: number;
  if (inode.ops.dio_write_blocks) r = inode.ops.dio_write_blocks(k, inode, index, blocks);
  else if (inode.ops.canDirectIO && inode.ops.write_iter) {
    r = 0;
    for (let i = 0; i < blocks.length; i++) {
      const w = inode.ops.write_iter(k, inode, (index + i) * PAGE_SIZE, PAGE_SIZE, blocks[i]);
      if (w < 0) return r > 0 ? r : w;
      r++;
    }
  } else return -EINVAL;
  if (r > 0) inode.i_size = Math.max(oldSize, endPos ?? (index + r) * PAGE_SIZE);
  return r;
}

function file_for_io(task: Task, fd: number): FsFile | number {
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  if (!(f instanceof FsFile)) return -EINVAL;
  return f;
}

/**
 * vfs_read() at pos: -EBADF without read access, -EISDIR for a directory,
 * -EINVAL when the file has no ->read_iter (hugetlbfs has one; secretmem
 * not) or O_DIRECT is misaligned.
 */
export function vfs_read(k: Kernel, file: FsFile, pos: number, len: number): ReadResult | number {
  if (!file.readable) return -EBADF;
  const inode = file.inode;
  if (!inode) return -EISDIR;
  if (len < 0 || pos < 0) return -EINVAL;
  if (!inode.ops.read_iter) return -EINVAL;
  if (len === 0) return { bytes: 0, contents: [] };
  if (file.flags & O_DIRECT && inode.ops.dio_read_blocks) {
    if (pos % DIO_ALIGN || len % DIO_ALIGN) return -EINVAL;
    const end = Math.min(pos + len, inode.i_size);
    if (pos >= end) return { bytes: 0, contents: [] };
    const first = Math.floor(pos / PAGE_SIZE);
    const contents = inode.ops.dio_read_blocks(
      k,
      inode,
      first,
      Math.floor((end - 1) / PAGE_SIZE) - first + 1,
    );
    return { bytes: end - pos, contents };
  }
  return inode.ops.read_iter(k, inode, pos, len);
}

/**
 * vfs_write() at pos: -EBADF without write access, -EINVAL without
 * ->write_iter (hugetlbfs, secretmem). Buffered writes dirty the page
 * cache; O_DIRECT writes go to the blocks. Returns bytes written.
 */
export function vfs_write(k: Kernel, file: FsFile, pos: number, len: number, value: number): number {
  if (!file.writable) return -EBADF;
  const inode = file.inode;
  if (!inode) return -EISDIR;
  if (len < 0 || pos < 0) return -EINVAL;
  if (!inode.ops.write_iter) return -EINVAL;
  if (len === 0) return 0;
  if (file.flags & O_DIRECT && inode.ops.dio_write_blocks) {
    if (pos % DIO_ALIGN || len % DIO_ALIGN) return -EINVAL;
    const first = Math.floor(pos / PAGE_SIZE);
    const nr = Math.floor((pos + len - 1) / PAGE_SIZE) - first + 1;
    const r = dio_write_blocks(k, inode, first, nr, new Array<number>(nr).fill(value >>> 0), pos + len);
    return r < 0 ? r : len;
  }
  return inode.ops.write_iter(k, inode, pos, len, value >>> 0);
}

/**
 * read(fd, len): reads at the file position and advances it. Returns the
 * content word of the first page read (0 at EOF), or -errno.
 */
export function sys_read(k: Kernel, task: Task, fd: number, len: number): number {
  const f = file_for_io(task, fd);
  if (typeof f === "number") return f;
  const r = vfs_read(k, f, f.pos, len);
  if (typeof r === "number") return r;
  f.pos += r.bytes;
  return r.contents[0] ?? 0;
}

/** write(fd, value, len): writes at the file position (at EOF with O_APPEND); returns bytes written. */
export function sys_write(k: Kernel, task: Task, fd: number, value: number, len: number): number {
  const f = file_for_io(task, fd);
  if (typeof f === "number") return f;
  if (f.flags & O.O_APPEND && f.inode) f.pos = f.inode.i_size;
  const r = vfs_write(k, f, f.pos, len, value);
  if (r > 0) f.pos += r;
  return r;
}

/** pread64(fd, len, offset): like read() at offset, the file position unchanged. */
export function sys_pread64(k: Kernel, task: Task, fd: number, len: number, offset: number): number {
  const f = file_for_io(task, fd);
  if (typeof f === "number") return f;
  if (offset < 0) return -EINVAL;
  const r = vfs_read(k, f, offset, len);
  if (typeof r === "number") return r;
  return r.contents[0] ?? 0;
}

/** pwrite64(fd, value, len, offset): like write() at offset, the file position unchanged. */
export function sys_pwrite64(
  k: Kernel,
  task: Task,
  fd: number,
  value: number,
  len: number,
  offset: number,
): number {
  const f = file_for_io(task, fd);
  if (typeof f === "number") return f;
  if (offset < 0) return -EINVAL;
  return vfs_write(k, f, offset, len, value);
}

/** lseek(fd, offset, whence): SEEK_SET/CUR/END; -EINVAL for other whence or a negative result. */
export function sys_lseek(_k: Kernel, task: Task, fd: number, offset: number, whence: number): number {
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  if (!(f instanceof FsFile)) return f.kind === "pipe" ? -ESPIPE : -EINVAL;
  let base: number;
  if (whence === SEEK_SET) base = 0;
  else if (whence === SEEK_CUR) base = f.pos;
  else if (whence === SEEK_END) base = f.inode ? f.inode.i_size : 0;
  else return -EINVAL;
  const pos = base + offset;
  if (pos < 0 || !Number.isSafeInteger(pos)) return -EINVAL;
  f.pos = pos;
  return pos;
}
