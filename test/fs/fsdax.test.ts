import { describe, it, expect } from "vitest";
import { EINTR } from "../../src/kernel/include/errno.js";
import { O_CREAT, O_DIRECT, O_RDWR } from "../../src/kernel/include/mman.js";
import { MIGRATE, PAGE_SIZE, ZONE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import { PTE } from "../../src/kernel/include/pgtable.js";
import { VM_HUGEPAGE } from "../../src/kernel/include/vm_flags.js";
import {
  do_mount,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  folio_is_fsdax,
  lookup_inode,
  sys_fallocate,
  sys_fsync,
  sys_ftruncate,
  sys_open,
  sys_pread64,
  sys_write,
  vfs,
  vma_is_fsdax,
} from "../../src/kernel/fs/index.js";
import {
  folio_put_refs,
  folio_ref_add,
  folio_ref_count,
  GUP_PIN_COUNTING_BIAS,
} from "../../src/kernel/mm/folio.js";
import { boot, file, mapFile, MMAP_BASE, named, pteBits, ptePfn, SHARED_RW, store } from "./util.js";

function setup() {
  const env = boot({ movable: 64 * 1024 * 1024 });
  expect(do_mount(env.k, "fsdax", "/pmem")).toBe(0);
  const fd = sys_open(env.k, env.t, "/pmem/f", O_RDWR | O_CREAT, 0o644);
  const inode = lookup_inode(env.k, "/pmem/f")!;
  return { ...env, fd, inode };
}

describe("FS-DAX (fs/dax.c)", () => {
  it("writes go to device pages in place: no page cache, nothing to write back", () => {
    const { k, t, fd, inode } = setup();
    expect(sys_write(k, t, fd, 0x5a, 2 * PAGE_SIZE)).toBe(2 * PAGE_SIZE);
    expect(inode.mapping.nrpages).toBe(0);
    const pfn = inode.dax!.get(1)!;
    expect(folio_is_fsdax(k, pfn)).toBe(true);
    expect(k.memmap.content(pfn)).toBe(0x5a);
    expect(k.memmap.mapping(pfn)).toBe(inode.id);
    expect(k.memmap.test(pfn, PG.lru)).toBe(false);
    expect(k.pa.zoneIdOf(pfn)).not.toBe(ZONE.MOVABLE);
    expect(k.pa.get_pageblock_migratetype(pfn)).toBe(MIGRATE.UNMOVABLE);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, PAGE_SIZE)).toBe(0x5a);
    // O_DIRECT takes the same path
    expect(sys_open(k, t, "/pmem/f", O_RDWR | O_DIRECT)).toBeGreaterThanOrEqual(0);
    // an ordinary page is not fsdax
    expect(folio_is_fsdax(k, k.pa.alloc_pages(0, 0))).toBe(false);
  });

  it("mmap: vma_is_fsdax, VM_HUGEPAGE; a fault maps the device page itself; fsync write-protects dirty PTEs", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 1, SHARED_RW);
    expect(vma_is_fsdax(vma)).toBe(true);
    expect(vma.vm_flags & VM_HUGEPAGE).toBeTruthy();
    expect(store(env, vma, vma.vm_start, 0x2)).toBe(0);
    const pfn = inode.dax!.get(0)!;
    expect(ptePfn(vma, vma.vm_start)).toBe(pfn);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 0)).toBe(0x2);
    expect(k.memmap.test(pfn, PG.dirty)).toBe(true);
    expect(sys_fsync(k, t, fd)).toBe(0);
    expect(pteBits(vma, vma.vm_start) & PTE.WRITE).toBe(0);
    expect(k.memmap.test(pfn, PG.dirty)).toBe(false);
  });

  it("truncate waits for a pinned page (reported as -EINTR) instead of orphaning it", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x1, 2 * PAGE_SIZE);
    const pfn = inode.dax!.get(1)!;
    folio_ref_add(k, pfn, GUP_PIN_COUNTING_BIAS);
    expect(sys_ftruncate(k, t, fd, 0)).toBe(-EINTR);
    expect(sys_fallocate(k, t, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE_SIZE)).toBe(-EINTR);
    expect(inode.i_size).toBe(2 * PAGE_SIZE);
    expect(inode.dax!.get(1)).toBe(pfn);
    expect(named(env.events, "dax_break_layout_busy")[0].args).toMatchObject({ pfn, pinned: true });
    // the pin goes: now it works, and the block returns to the device pool
    folio_put_refs(k, pfn, GUP_PIN_COUNTING_BIAS);
    expect(sys_ftruncate(k, t, fd, 0)).toBe(0);
    expect(inode.dax!.size).toBe(0);
    expect(k.memmap.mapping(pfn)).toBe(0);
    expect(folio_ref_count(k, pfn)).toBe(1);
    expect(folio_is_fsdax(k, pfn)).toBe(true);
    expect(vfs(k).daxFree).toContain(pfn);
  });

  it("a mapped but unpinned page does not block truncate", () => {
    const env = setup();
    const { k, t, fd } = env;
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 1, SHARED_RW);
    store(env, vma, vma.vm_start, 0x3);
    expect(sys_ftruncate(k, t, fd, 0)).toBe(0);
    expect(ptePfn(vma, vma.vm_start)).toBeNull();
  });
});
