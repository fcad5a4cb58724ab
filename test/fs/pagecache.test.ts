import { describe, it, expect } from "vitest";
import { ENOENT } from "../../src/kernel/include/errno.js";
import { VM_FAULT } from "../../src/kernel/include/fault.js";
import { O_CREAT, O_RDWR } from "../../src/kernel/include/mman.js";
import { MIGRATE, PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import {
  do_mount,
  lookup_inode,
  sys_open,
  sys_pread64,
  sys_write,
  vfs_read,
} from "../../src/kernel/fs/index.js";
import {
  __filemap_get_folio,
  FGP_CREAT,
  filemap_get_folio,
  page_cache_lookup,
} from "../../src/kernel/mm/filemap.js";
import { folio_put, folio_ref_count } from "../../src/kernel/mm/folio.js";
import { NIL } from "../../src/kernel/mm/memmap.js";
import { boot, fault, file, mapFile, MMAP_BASE, named, PRIVATE_RW, ptePfn, SHARED_RW } from "./util.js";

function ext4File() {
  const env = boot();
  expect(do_mount(env.k, "ext4", "/data")).toBe(0);
  const fd = sys_open(env.k, env.t, "/data/f", O_RDWR | O_CREAT, 0o644);
  expect(fd).toBeGreaterThanOrEqual(0);
  const inode = lookup_inode(env.k, "/data/f")!;
  return { ...env, fd, inode };
}

describe("page cache (mm/filemap.c)", () => {
  it("a missing folio is not created without FGP_CREAT", () => {
    const { k, inode } = ext4File();
    expect(filemap_get_folio(k, inode.mapping, 0)).toBe(-ENOENT);
    expect(inode.mapping.nrpages).toBe(0);
  });

  it("FGP_CREAT reads the block from the backing store into a movable, uptodate LRU folio", () => {
    const { k, inode } = ext4File();
    inode.backing.set(3, 0x1234);
    inode.i_size = 4 * PAGE_SIZE;
    const folio = __filemap_get_folio(k, inode.mapping, 3, FGP_CREAT);
    expect(folio).toBeGreaterThan(0);
    expect(k.memmap.content(folio)).toBe(0x1234);
    expect(k.memmap.test(folio, PG.uptodate)).toBe(true);
    expect(k.memmap.test(folio, PG.lru)).toBe(true);
    expect(k.memmap.mapping(folio)).toBe(inode.id);
    expect(k.memmap.index(folio)).toBe(3);
    expect(k.pa.get_pageblock_migratetype(folio)).toBe(MIGRATE.MOVABLE);
    // one reference for the page cache, one for us
    expect(folio_ref_count(k, folio)).toBe(2);
    // a second lookup finds the same folio and takes another reference
    expect(filemap_get_folio(k, inode.mapping, 3)).toBe(folio);
    expect(folio_ref_count(k, folio)).toBe(3);
    folio_put(k, folio);
    folio_put(k, folio);
    expect(folio_ref_count(k, folio)).toBe(1);
  });

  it("write() dirties page-cache folios, attaches ext4 buffers and grows i_size; nothing reaches the disk yet", () => {
    const { k, t, fd, inode } = ext4File();
    expect(sys_write(k, t, fd, 0xaa, 2 * PAGE_SIZE)).toBe(2 * PAGE_SIZE);
    expect(inode.i_size).toBe(2 * PAGE_SIZE);
    for (const idx of [0, 1]) {
      const folio = page_cache_lookup(inode.mapping, idx);
      expect(folio).not.toBe(NIL);
      expect(k.memmap.content(folio)).toBe(0xaa);
      expect(k.memmap.test(folio, PG.dirty)).toBe(true);
      expect(k.memmap.test(folio, PG.private)).toBe(true);
      // page cache + buffers
      expect(folio_ref_count(k, folio)).toBe(2);
    }
    expect(inode.backing.size).toBe(0);
    expect(k.vmstat.nr_dirtied).toBe(2);
  });

  it("read() returns the cached content, clamps at EOF, and reads holes as zero", () => {
    const { k, t, fd } = ext4File();
    sys_write(k, t, fd, 0x77, PAGE_SIZE);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 0)).toBe(0x77);
    const f = file(t, fd);
    expect(vfs_read(k, f, PAGE_SIZE, PAGE_SIZE)).toEqual({ bytes: 0, contents: [] });
    expect(vfs_read(k, f, 100, 10 * PAGE_SIZE)).toEqual({ bytes: PAGE_SIZE - 100, contents: [0x77] });
  });

  it("filemap_fault: a page beyond EOF is SIGBUS; a hit takes a reference for the mapping", () => {
    const env = ext4File();
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x5, PAGE_SIZE);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 4, SHARED_RW);
    expect(inode.mapping.i_mmap.has(vma)).toBe(true);
    expect(fault(env, vma, vma.vm_start + PAGE_SIZE, false)).toBe(VM_FAULT.SIGBUS);
    expect(fault(env, vma, vma.vm_start, false)).toBe(0);
    const folio = page_cache_lookup(inode.mapping, 0);
    expect(ptePfn(vma, vma.vm_start)).toBe(folio);
    // cache + buffers + the PTE
    expect(folio_ref_count(k, folio)).toBe(3);
    expect(k.memmap.mapcount(folio)).toBe(1);
  });

  it("a read fault on an uncached page is a major fault that reads the block", () => {
    const env = ext4File();
    const { k, t, fd, inode } = env;
    inode.backing.set(0, 0xbeef);
    inode.i_size = PAGE_SIZE;
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 1, PRIVATE_RW);
    const before = k.vmstat.pgmajfault;
    expect(fault(env, vma, vma.vm_start, false)).toBe(0);
    expect(k.vmstat.pgmajfault).toBe(before + 1);
    expect(k.memmap.content(ptePfn(vma, vma.vm_start)!)).toBe(0xbeef);
    expect(named(env.events, "filemap_fault")[0].args.major).toBe(true);
  });

  it("a write fault on a private file mapping copies the page; the page cache keeps the file's data", () => {
    const env = ext4File();
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x10, PAGE_SIZE);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 1, PRIVATE_RW);
    expect(fault(env, vma, vma.vm_start, true)).toBe(0);
    const anon = ptePfn(vma, vma.vm_start)!;
    const cached = page_cache_lookup(inode.mapping, 0);
    expect(anon).not.toBe(cached);
    expect(k.memmap.test(anon, PG.anon)).toBe(true);
    expect(k.memmap.content(anon)).toBe(0x10);
  });
});
