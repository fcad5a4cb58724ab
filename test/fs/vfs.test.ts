import { describe, it, expect } from "vitest";
import {
  EACCES,
  EBADF,
  EBUSY,
  EEXIST,
  EINVAL,
  EISDIR,
  ENODEV,
  ENOENT,
  ENOTDIR,
} from "../../src/kernel/include/errno.js";
import {
  O,
  O_CREAT,
  O_DIRECT,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
} from "../../src/kernel/include/mman.js";
import { PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import { Task } from "../../src/kernel/kernel/task.js";
import {
  dio_read_blocks,
  dio_write_blocks,
  do_mount,
  lookup_inode,
  SEEK_END,
  SEEK_SET,
  sys_close,
  sys_fallocate,
  sys_fsync,
  sys_ftruncate,
  sys_lseek,
  sys_mkdir,
  sys_open,
  sys_pread64,
  sys_pwrite64,
  sys_read,
  sys_unlink,
  sys_write,
  vfs,
  vma_close_file,
} from "../../src/kernel/fs/index.js";
import { page_cache_lookup } from "../../src/kernel/mm/filemap.js";
import { folio_ref_add, GUP_PIN_COUNTING_BIAS } from "../../src/kernel/mm/folio.js";
import { VmArea } from "../../src/kernel/mm/mm_types.js";
import { boot, file, mapFile, MMAP_BASE, named, SHARED_RW } from "./util.js";

function mounted() {
  const env = boot();
  expect(do_mount(env.k, "ext4", "/data")).toBe(0);
  return env;
}

describe("VFS: mount, open, close (fs/namespace.c, fs/namei.c, fs/open.c)", () => {
  it("mount: unknown types -ENODEV, a busy mount point -EBUSY, relative paths -ENOENT", () => {
    const { k } = boot();
    expect(do_mount(k, "ext3", "/a")).toBe(-ENODEV);
    expect(do_mount(k, "xfs", "data")).toBe(-ENOENT);
    expect(do_mount(k, "xfs", "/data")).toBe(0);
    expect(do_mount(k, "tmpfs", "/data/")).toBe(-EBUSY);
    expect(vfs(k).dirs.has("/data")).toBe(true);
  });

  it("open: -ENOENT without O_CREAT, creates with it, -EEXIST with O_EXCL, lowest free fd", () => {
    const { k, t } = mounted();
    expect(sys_open(k, t, "/data/f", O_RDWR)).toBe(-ENOENT);
    expect(sys_open(k, t, "/data/f", O_RDWR | O_CREAT)).toBe(0);
    expect(sys_open(k, t, "/data/f", O_RDWR | O_CREAT | O_EXCL)).toBe(-EEXIST);
    expect(sys_open(k, t, "/data/f", O_RDONLY)).toBe(1);
    expect(sys_close(k, t, 0)).toBe(0);
    expect(sys_close(k, t, 0)).toBe(-EBADF);
    expect(sys_open(k, t, "/data//f", O_WRONLY)).toBe(0);
    expect(lookup_inode(k, "/data/f")!.sb.type).toBe("ext4");
  });

  it("paths: missing parent -ENOENT, a file as a directory -ENOTDIR, no file system -ENOENT", () => {
    const { k, t } = mounted();
    expect(sys_open(k, t, "/data/sub/f", O_RDWR | O_CREAT)).toBe(-ENOENT);
    expect(sys_mkdir(k, t, "/data/sub")).toBe(0);
    expect(sys_mkdir(k, t, "/data/sub")).toBe(-EEXIST);
    expect(sys_open(k, t, "/data/sub/f", O_RDWR | O_CREAT)).toBeGreaterThanOrEqual(0);
    sys_open(k, t, "/data/g", O_RDWR | O_CREAT);
    expect(sys_open(k, t, "/data/g/x", O_RDWR | O_CREAT)).toBe(-ENOTDIR);
    expect(sys_open(k, t, "/elsewhere", O_RDWR | O_CREAT)).toBe(-ENOENT);
  });

  it("directories open read-only: -EISDIR for write access or O_CREAT; not mappable, not readable", () => {
    const env = mounted();
    const { k, t } = env;
    expect(sys_open(k, t, "/data", O_RDWR)).toBe(-EISDIR);
    expect(sys_open(k, t, "/data", O_RDONLY | O_CREAT)).toBe(-EISDIR);
    expect(sys_open(k, t, "/data", O_RDONLY | O_CREAT | O_EXCL)).toBe(-EEXIST);
    const fd = sys_open(k, t, "/data", O_RDONLY);
    expect(file(t, fd).kind).toBe("directory");
    expect(sys_read(k, t, fd, 10)).toBe(-EISDIR);
    const vma = new VmArea(
      t.mm!,
      MMAP_BASE - 0x100000,
      MMAP_BASE - 0x100000 + PAGE_SIZE,
      SHARED_RW,
      0,
      null,
      null,
    );
    expect(file(t, fd).mmap(k, vma)).toBe(-ENODEV);
  });

  it("permissions: others need the mode bits (-EACCES); the creator of a file opens it regardless", () => {
    const { k, t } = mounted();
    sys_open(k, t, "/data/secret", O_RDWR | O_CREAT, 0o600);
    const u = new Task(k.newId("pid"), "U", null, 1000, [], 0, null);
    expect(sys_open(k, u, "/data/secret", O_RDONLY)).toBe(-EACCES);
    expect(sys_open(k, u, "/data/mine", O_RDWR | O_CREAT, 0o000)).toBeGreaterThanOrEqual(0);
    expect(sys_open(k, u, "/data/mine", O_RDONLY)).toBe(-EACCES);
    sys_open(k, t, "/data/pub", O_RDWR | O_CREAT, 0o644);
    expect(sys_open(k, u, "/data/pub", O_RDONLY)).toBeGreaterThanOrEqual(0);
    expect(sys_open(k, u, "/data/pub", O_WRONLY)).toBe(-EACCES);
    expect(sys_open(k, u, "/data/pub", O_RDONLY | O_TRUNC)).toBe(-EACCES);
  });

  it("O_TRUNC truncates an existing file, pins notwithstanding", () => {
    const { k, t } = mounted();
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT);
    sys_write(k, t, fd, 0x1, 2 * PAGE_SIZE);
    const inode = lookup_inode(k, "/data/f")!;
    const folio = page_cache_lookup(inode.mapping, 0);
    folio_ref_add(k, folio, GUP_PIN_COUNTING_BIAS);
    expect(sys_open(k, t, "/data/f", O_RDWR | O_TRUNC)).toBeGreaterThanOrEqual(0);
    expect(inode.i_size).toBe(0);
    expect(inode.mapping.nrpages).toBe(0);
    expect(k.memmap.mapping(folio)).toBe(0);
  });

  it("access modes: write on O_RDONLY and read on O_WRONLY are -EBADF; ftruncate needs write (-EINVAL)", () => {
    const { k, t } = mounted();
    const w = sys_open(k, t, "/data/f", O_WRONLY | O_CREAT);
    const r = sys_open(k, t, "/data/f", O_RDONLY);
    expect(sys_write(k, t, r, 1, 10)).toBe(-EBADF);
    expect(sys_read(k, t, w, 10)).toBe(-EBADF);
    expect(sys_ftruncate(k, t, r, 0)).toBe(-EINVAL);
    expect(sys_ftruncate(k, t, w, -1)).toBe(-EINVAL);
    expect(sys_fallocate(k, t, r, 0, 0, PAGE_SIZE)).toBe(-EBADF);
    expect(sys_fallocate(k, t, w, 0, 0, 0)).toBe(-EINVAL);
    expect(sys_read(k, t, 99, 10)).toBe(-EBADF);
  });

  it("file position: write and read advance it, O_APPEND writes at EOF, lseek moves it", () => {
    const { k, t } = mounted();
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT);
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    sys_write(k, t, fd, 0x2, PAGE_SIZE);
    expect(sys_lseek(k, t, fd, 0, SEEK_SET)).toBe(0);
    expect(sys_read(k, t, fd, PAGE_SIZE)).toBe(0x1);
    expect(sys_read(k, t, fd, PAGE_SIZE)).toBe(0x2);
    expect(sys_read(k, t, fd, PAGE_SIZE)).toBe(0); // EOF
    expect(sys_lseek(k, t, fd, 0, SEEK_END)).toBe(2 * PAGE_SIZE);
    expect(sys_lseek(k, t, fd, -1, SEEK_SET)).toBe(-EINVAL);
    expect(sys_lseek(k, t, fd, 0, 7)).toBe(-EINVAL);
    const a = sys_open(k, t, "/data/f", O_WRONLY | O.O_APPEND);
    expect(sys_write(k, t, a, 0x3, PAGE_SIZE)).toBe(PAGE_SIZE);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 2 * PAGE_SIZE)).toBe(0x3);
    expect(sys_pwrite64(k, t, fd, 0x4, PAGE_SIZE, 0)).toBe(PAGE_SIZE);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 0)).toBe(0x4);
  });

  it("a forked descriptor shares the open file: one release does not close it", () => {
    const { k, t } = mounted();
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT);
    const f = file(t, fd);
    const inode = f.inode!;
    const dup = f.dup();
    expect(dup).toBe(f);
    expect(sys_close(k, t, fd)).toBe(0);
    expect(inode.openCount).toBe(1);
    dup.release();
    expect(inode.openCount).toBe(0);
    expect(inode.evicted).toBe(false); // still has a name
  });

  it("unlink: the inode lives while open or mapped, and is evicted with its pages afterwards", () => {
    const env = mounted();
    const { k, t } = env;
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT);
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const inode = lookup_inode(k, "/data/f")!;
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 1, SHARED_RW);
    expect(sys_unlink(k, t, "/data/f")).toBe(0);
    expect(sys_unlink(k, t, "/data/f")).toBe(-ENOENT);
    expect(sys_unlink(k, t, "/data")).toBe(-EISDIR);
    expect(sys_open(k, t, "/data/f", O_RDWR)).toBe(-ENOENT);
    const folio = page_cache_lookup(inode.mapping, 0);
    sys_close(k, t, fd);
    expect(inode.evicted).toBe(false);
    expect(k.mappings.has(inode.id)).toBe(true);
    // what the munmap path does
    vma_close_file(k, vma);
    expect(inode.evicted).toBe(true);
    expect(k.mappings.has(inode.id)).toBe(false);
    expect(k.memmap.refcount(folio)).toBe(0); // freed
    expect(named(env.events, "inode_evict")).toHaveLength(1);
  });
});

describe("direct I/O block helpers", () => {
  it("dio_write_blocks writes back and invalidates cached pages, then writes the disk", () => {
    const { k, t } = mounted();
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT);
    sys_write(k, t, fd, 0x1, 2 * PAGE_SIZE);
    const inode = lookup_inode(k, "/data/f")!;
    expect(dio_write_blocks(k, inode, 1, 2, [0x7, 0x8])).toBe(2);
    // only the range is flushed and invalidated: page 0 stays cached and dirty
    expect(inode.backing.has(0)).toBe(false);
    expect(k.memmap.test(page_cache_lookup(inode.mapping, 0), PG.dirty)).toBe(true);
    expect(inode.backing.get(1)).toBe(0x7);
    expect(inode.backing.get(2)).toBe(0x8);
    expect(inode.i_size).toBe(3 * PAGE_SIZE);
    expect(page_cache_lookup(inode.mapping, 1)).toBe(-1 >>> 0);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, PAGE_SIZE)).toBe(0x7);
    expect(dio_read_blocks(k, inode, 0, 10)).toEqual([0x1, 0x7, 0x8]);
  });

  it("dio_read_blocks sees dirty cached data (written back first)", () => {
    const { k, t } = mounted();
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT);
    sys_write(k, t, fd, 0x5, PAGE_SIZE);
    const inode = lookup_inode(k, "/data/f")!;
    expect(dio_read_blocks(k, inode, 0, 1)).toEqual([0x5]);
    expect(k.memmap.test(page_cache_lookup(inode.mapping, 0), PG.dirty)).toBe(false);
  });

  it("O_DIRECT write()/read() go to the blocks and must be 512-byte aligned", () => {
    const { k, t } = mounted();
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT | O_DIRECT);
    expect(sys_write(k, t, fd, 0x9, 100)).toBe(-EINVAL);
    expect(sys_write(k, t, fd, 0x9, 1024)).toBe(1024);
    const inode = lookup_inode(k, "/data/f")!;
    expect(inode.i_size).toBe(1024);
    expect(inode.backing.get(0)).toBe(0x9);
    expect(inode.mapping.nrpages).toBe(0);
    expect(sys_pread64(k, t, fd, 512, 0)).toBe(0x9);
    expect(sys_fsync(k, t, fd)).toBe(0);
  });
});
