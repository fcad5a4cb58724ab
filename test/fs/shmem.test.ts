import { describe, it, expect } from "vitest";
import { EINVAL, ENODEV, EOPNOTSUPP } from "../../src/kernel/include/errno.js";
import { VM_FAULT } from "../../src/kernel/include/fault.js";
import { MFD, O_CREAT, O_DIRECT, O_RDWR } from "../../src/kernel/include/mman.js";
import { PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import {
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from "../../src/kernel/include/vm_flags.js";
import {
  do_mount,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  inode_by_id,
  lookup_inode,
  memfd_create,
  shmem_mapping,
  shmem_zero_setup,
  sys_close,
  sys_fallocate,
  sys_fsync,
  sys_ftruncate,
  sys_open,
  sys_pread64,
  sys_write,
  vfs,
} from "../../src/kernel/fs/index.js";
import { page_cache_lookup } from "../../src/kernel/mm/filemap.js";
import {
  folio_put_refs,
  folio_ref_add,
  folio_ref_count,
  GUP_PIN_COUNTING_BIAS,
} from "../../src/kernel/mm/folio.js";
import { VmArea } from "../../src/kernel/mm/mm_types.js";
import { remove_vma } from "../../src/kernel/mm/mmap.js";
import { writeback_inode } from "../../src/kernel/mm/page_writeback.js";
import { boot, fault, file, mapFile, MMAP_BASE, named, pteBits, ptePfn, SHARED_RW, store } from "./util.js";
import { PTE } from "../../src/kernel/include/pgtable.js";

describe("tmpfs / shmem (mm/shmem.c)", () => {
  it("tmpfs files keep their data in swap-backed page-cache folios and have no writeback", () => {
    const env = boot();
    const { k, t } = env;
    expect(do_mount(k, "tmpfs", "/tmp")).toBe(0);
    const fd = sys_open(k, t, "/tmp/f", O_RDWR | O_CREAT, 0o600);
    expect(sys_write(k, t, fd, 0x42, PAGE_SIZE)).toBe(PAGE_SIZE);
    const inode = lookup_inode(k, "/tmp/f")!;
    const folio = page_cache_lookup(inode.mapping, 0);
    expect(k.memmap.test(folio, PG.swapbacked)).toBe(true);
    expect(k.memmap.test(folio, PG.private)).toBe(false);
    expect(k.memmap.test(folio, PG.dirty)).toBe(true);
    expect(inode.mapping.canWriteback).toBe(false);
    expect(sys_fsync(k, t, fd)).toBe(0);
    expect(writeback_inode(k, inode)).toBe(0);
    expect(k.memmap.test(folio, PG.dirty)).toBe(true);
    expect(inode.backing.size).toBe(0);
    expect(shmem_mapping(k, inode.id)).toBe(true);
    // holes read as zero without allocating
    sys_ftruncate(k, t, fd, 4 * PAGE_SIZE);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 2 * PAGE_SIZE)).toBe(0);
    expect(inode.mapping.nrpages).toBe(1);
    // O_DIRECT is accepted on tmpfs (served by the page cache)
    expect(sys_open(k, t, "/tmp/f", O_RDWR | O_DIRECT)).toBeGreaterThanOrEqual(0);
  });

  it("shared writable tmpfs mappings are writable at once: no page_mkwrite, no write notify", () => {
    const env = boot();
    const { k, t } = env;
    do_mount(k, "tmpfs", "/tmp");
    const fd = sys_open(k, t, "/tmp/f", O_RDWR | O_CREAT);
    sys_ftruncate(k, t, fd, PAGE_SIZE);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 1, SHARED_RW);
    expect(vma.vm_ops?.name).toBe("shmem");
    expect(vma.vm_ops?.page_mkwrite).toBeUndefined();
    expect(vma.vm_file?.canWriteback).toBe(false);
    expect(fault(env, vma, vma.vm_start, false)).toBe(0);
    // a read fault already maps it writable (vma_wants_writenotify() is false)
    expect(pteBits(vma, vma.vm_start) & PTE.WRITE).toBeTruthy();
  });

  it("a fault past EOF is SIGBUS", () => {
    const env = boot();
    const { k, t } = env;
    const fd = memfd_create(k, t, "m", 0);
    sys_ftruncate(k, t, fd, PAGE_SIZE);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 2, SHARED_RW);
    expect(fault(env, vma, vma.vm_start, true)).toBe(0);
    expect(fault(env, vma, vma.vm_start + PAGE_SIZE, false)).toBe(VM_FAULT.SIGBUS);
  });

  it("memfd_create: an unnamed tmpfs file; bad flags are -EINVAL; unknown huge sizes -ENODEV", () => {
    const { k, t } = boot();
    const fd = memfd_create(k, t, "buf", MFD.MFD_CLOEXEC | MFD.MFD_ALLOW_SEALING);
    expect(fd).toBeGreaterThanOrEqual(0);
    const f = file(t, fd);
    expect(f.kind).toBe("memfd");
    expect(f.readable && f.writable).toBe(true);
    expect(f.inode!.sb.type).toBe("tmpfs");
    expect(f.inode!.nlink).toBe(0);
    expect(memfd_create(k, t, "x", 0x100)).toBe(-EINVAL);
    expect(memfd_create(k, t, "x", MFD.MFD_HUGE_2MB)).toBe(-EINVAL); // size bits need MFD_HUGETLB
    expect(memfd_create(k, t, "x", MFD.MFD_EXEC | MFD.MFD_NOEXEC_SEAL)).toBe(-EINVAL);
    expect(memfd_create(k, t, "x".repeat(250), 0)).toBe(-EINVAL);
    expect(memfd_create(k, t, "x", MFD.MFD_HUGETLB | (25 << 26))).toBe(-ENODEV);
  });

  it("tmpfs supports PUNCH_HOLE but not ZERO_RANGE; a punched pinned folio becomes an orphan", () => {
    const env = boot();
    const { k, t } = env;
    const fd = memfd_create(k, t, "m", 0);
    sys_write(k, t, fd, 0x9, 2 * PAGE_SIZE);
    const inode = file(t, fd).inode!;
    const folio = page_cache_lookup(inode.mapping, 1);
    folio_ref_add(k, folio, GUP_PIN_COUNTING_BIAS);
    expect(sys_fallocate(k, t, fd, FALLOC_FL_ZERO_RANGE, 0, PAGE_SIZE)).toBe(-EOPNOTSUPP);
    expect(sys_fallocate(k, t, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(k.memmap.mapping(folio)).toBe(0);
    expect(folio_ref_count(k, folio)).toBe(GUP_PIN_COUNTING_BIAS);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(named(env.events, "truncate_folio").at(-1)!.args).toMatchObject({ pinned: true, orphan: true });
    folio_put_refs(k, folio, GUP_PIN_COUNTING_BIAS);
    expect(folio_ref_count(k, folio)).toBe(0);
    // allocation marks new folios dirty and grows the file
    expect(sys_fallocate(k, t, fd, 0, 4 * PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(inode.i_size).toBe(5 * PAGE_SIZE);
    expect(k.memmap.test(page_cache_lookup(inode.mapping, 4), PG.dirty)).toBe(true);
  });

  it("closing the last descriptor of an unmapped memfd evicts it and frees its pages", () => {
    const { k, t } = boot();
    const fd = memfd_create(k, t, "m", 0);
    sys_write(k, t, fd, 0x9, PAGE_SIZE);
    const inode = file(t, fd).inode!;
    const folio = page_cache_lookup(inode.mapping, 0);
    expect(sys_close(k, t, fd)).toBe(0);
    expect(inode.evicted).toBe(true);
    expect(k.mappings.has(inode.id)).toBe(false);
    expect(folio_ref_count(k, folio)).toBe(0);
  });

  it("shmem_zero_setup: MAP_SHARED|MAP_ANONYMOUS maps an unnamed shmem file from offset 0, sized to the VMA", () => {
    const env = boot();
    const { k, t } = env;
    const mm = t.mm!;
    const start = MMAP_BASE - 0x200000;
    const flags = VM_READ | VM_WRITE | VM_SHARED | VM_MAYSHARE | VM_MAYREAD | VM_MAYWRITE;
    const vma = new VmArea(mm, start, start + 2 * PAGE_SIZE, flags, start / PAGE_SIZE, null, null);
    expect(shmem_zero_setup(k, vma)).toBe(0);
    mm.insertVma(vma);
    expect(vma.vm_pgoff).toBe(0);
    expect(vma.vm_ops?.name).toBe("shmem");
    expect(vma.isAnonymous()).toBe(false);
    const inode = inode_by_id(k, vma.vm_file!.inodeId)!;
    expect(inode.i_size).toBe(2 * PAGE_SIZE);
    expect(store(env, vma, start + PAGE_SIZE, 0x77)).toBe(0);
    const folio = ptePfn(vma, start + PAGE_SIZE)!;
    expect(page_cache_lookup(inode.mapping, 1)).toBe(folio);
    expect(k.memmap.test(folio, PG.swapbacked)).toBe(true);
    expect(k.memmap.test(folio, PG.anon)).toBe(false);
    expect(mm.rss.shmem).toBe(1);
    // unmapping the only VMA evicts the unnamed file
    remove_vma(k, vma);
    expect(inode.evicted).toBe(true);
    expect(vfs(k).inodes.has(inode.id)).toBe(false);
    expect(folio_ref_count(k, folio)).toBe(0);
  });
});
