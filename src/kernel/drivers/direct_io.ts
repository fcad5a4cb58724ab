/**
 * read()/write() with user buffers, and O_DIRECT (fs/iomap/direct-io.c,
 * block/bio.c: bio_iov_iter_get_pages() → iov_iter_extract_pages()).
 * Buffered I/O copies through the page cache with copy_{to,from}_user().
 * O_DIRECT takes a short-term FOLL_PIN on the user buffer for the duration
 * of the I/O — FOLL_WRITE when the device writes into it (a read) — and
 * releases it with bio_release_pages(): dirtying for reads. A R/O pin of a
 * COW-shared anon page unshares it first (gup_must_unshare()), which is why
 * an O_DIRECT write from a buffer shared with a fork child moves the writer
 * to a new page (gup-semantics.md §2.3).
 */
import { EBADF, EFAULT, EINVAL, EISDIR } from "../include/errno.js";
import { FOLL_WRITE } from "../include/foll_flags.js";
import { O_DIRECT } from "../include/mman.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { FsFile } from "../fs/open.js";
import { dio_read_blocks, dio_write_blocks, vfs_read, vfs_write } from "../fs/read_write.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import { user_access } from "../mm/user_access.js";
import { driver_gup, driver_release } from "./pin_user.js";
import type { PinRecord } from "./pin_table.js";

/** The logical block size O_DIRECT offsets, lengths and buffers must be aligned to. */
export const DIO_ALIGN = 512;

/** copy_from_user() of one content word per page of [buf, buf+len). */
export function copy_from_user(k: Kernel, task: Task, buf: number, len: number): number[] | number {
  const out: number[] = [];
  for (let a = Math.floor(buf / PAGE_SIZE) * PAGE_SIZE; a < buf + len; a += PAGE_SIZE) {
    const pfn = user_access(k, task.mm!, a, false);
    if (pfn < 0) return -EFAULT;
    out.push(k.memmap.content(pfn));
  }
  return out;
}

/** copy_to_user(): write one content word per page. */
export function copy_to_user(k: Kernel, task: Task, buf: number, contents: readonly number[]): number {
  let i = 0;
  for (const v of contents) {
    const pfn = user_access(k, task.mm!, Math.floor(buf / PAGE_SIZE) * PAGE_SIZE + i * PAGE_SIZE, true);
    if (pfn < 0) return -EFAULT;
    k.memmap.setContent(pfn, v);
    i++;
  }
  return 0;
}

function fsfile(task: Task, fd: number): FsFile | number {
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  if (!(f instanceof FsFile)) return -EINVAL;
  if (!f.inode) return -EISDIR;
  return f;
}

/** write()/pwrite() from a user buffer: bytes written or -errno. pos null means the file position. */
export function write_from_user(
  k: Kernel,
  task: Task,
  fd: number,
  buf: number,
  len: number,
  pos: number | null,
): number {
  const f = fsfile(task, fd);
  if (typeof f === "number") return f;
  if (!f.writable) return -EBADF;
  const at = pos ?? f.pos;
  let ret: number;
  if (f.flags & O_DIRECT) ret = dio_write(k, task, f, buf, len, at);
  else {
    const contents = copy_from_user(k, task, buf, len);
    if (typeof contents === "number") return contents;
    // generic_perform_write(): bytes written before the first error, or the error
    ret = 0;
    for (let i = 0; i < contents.length; i++) {
      const chunk = Math.min(PAGE_SIZE, len - i * PAGE_SIZE);
      const r = vfs_write(k, f, at + i * PAGE_SIZE, chunk, contents[i]);
      if (r < 0) {
        if (!ret) ret = r;
        break;
      }
      ret += r;
    }
  }
  if (ret > 0 && pos === null) f.pos += ret;
  return ret;
}

/** read()/pread() into a user buffer: bytes read or -errno. */
export function read_to_user(
  k: Kernel,
  task: Task,
  fd: number,
  buf: number,
  len: number,
  pos: number | null,
): number {
  const f = fsfile(task, fd);
  if (typeof f === "number") return f;
  if (!f.readable) return -EBADF;
  const at = pos ?? f.pos;
  let ret: number;
  if (f.flags & O_DIRECT) ret = dio_read(k, task, f, buf, len, at);
  else {
    const r = vfs_read(k, f, at, len);
    if (typeof r === "number") return r;
    const c = copy_to_user(k, task, buf, r.contents);
    ret = c < 0 ? c : r.bytes;
  }
  if (ret > 0 && pos === null) f.pos += ret;
  return ret;
}

/**
 * bio_iov_iter_get_pages() → iov_iter_extract_pages(): pin every page of the
 * user buffer for the I/O (FOLL_WRITE when the device writes into it), or
 * -errno with nothing left pinned.
 */
function pin_io_buffer(
  k: Kernel,
  task: Task,
  buf: number,
  len: number,
  devWrites: boolean,
): PinRecord | number {
  const nr = Math.ceil((buf + len) / PAGE_SIZE) - Math.floor(buf / PAGE_SIZE);
  const { ret, rec } = driver_gup(k, {
    owner: "O_DIRECT",
    api: "pin_user_pages_fast",
    caller: task,
    target: task,
    start: Math.floor(buf / PAGE_SIZE) * PAGE_SIZE,
    nrPages: nr,
    flags: devWrites ? FOLL_WRITE : 0,
  });
  if (ret === nr) return rec!;
  if (rec) driver_release(k, rec);
  return ret < 0 ? ret : -EFAULT;
}

/** iomap_dio_rw() for a write: pin the source buffer read-only, write the blocks, unpin. */
function dio_write(k: Kernel, task: Task, f: FsFile, buf: number, len: number, pos: number): number {
  if (pos % DIO_ALIGN || len % DIO_ALIGN || buf % DIO_ALIGN) return -EINVAL;
  if (!len) return 0;
  const rec = pin_io_buffer(k, task, buf, len, false);
  if (typeof rec === "number") return rec;
  const contents = Array.from(rec.pages, (p) => k.memmap.content(p));
  const r = dio_write_blocks(k, f.inode!, Math.floor(pos / PAGE_SIZE), rec.pages.length, contents, pos + len);
  driver_release(k, rec);
  return r < 0 ? r : len;
}

/** iomap_dio_rw() for a read: pin the destination writable, DMA the blocks in, unpin dirty. */
function dio_read(k: Kernel, task: Task, f: FsFile, buf: number, len: number, pos: number): number {
  if (pos % DIO_ALIGN || len % DIO_ALIGN || buf % DIO_ALIGN) return -EINVAL;
  const size = f.inode!.i_size;
  if (pos >= size || !len) return 0;
  len = Math.min(len, Math.ceil((size - pos) / DIO_ALIGN) * DIO_ALIGN);
  const rec = pin_io_buffer(k, task, buf, len, true);
  if (typeof rec === "number") return rec;
  const contents = dio_read_blocks(k, f.inode!, Math.floor(pos / PAGE_SIZE), rec.pages.length);
  if (typeof contents === "number") {
    driver_release(k, rec);
    return contents;
  }
  for (let i = 0; i < rec.pages.length; i++) k.memmap.setContent(rec.pages[i], contents[i] ?? 0);
  // bio_release_pages(bio, mark_dirty): the device wrote into the user pages
  driver_release(k, rec, true);
  return len;
}
