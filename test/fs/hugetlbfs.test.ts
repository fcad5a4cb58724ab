import { describe, it, expect } from "vitest";
import { EINVAL, ENOMEM, ENOSPC } from "../../src/kernel/include/errno.js";
import { VM_FAULT } from "../../src/kernel/include/fault.js";
import { MFD, O_CREAT, O_DIRECT, O_RDWR } from "../../src/kernel/include/mman.js";
import { HPAGE_PMD_NR, HPAGE_PMD_SIZE, PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import { PTE } from "../../src/kernel/include/pgtable.js";
import { VM_HUGETLB, VM_NORESERVE, VM_WRITE } from "../../src/kernel/include/vm_flags.js";
import {
  do_mount,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  hugetlb_file_setup,
  inode_by_id,
  memfd_create,
  sys_fallocate,
  sys_ftruncate,
  sys_open,
  sys_pread64,
  sys_write,
} from "../../src/kernel/fs/index.js";
import { page_cache_lookup } from "../../src/kernel/mm/filemap.js";
import {
  folio_add_pincount,
  folio_maybe_dma_pinned,
  folio_put,
  folio_ref_add,
  folio_ref_count,
} from "../../src/kernel/mm/folio.js";
import { set_hugetlb_vma } from "../../src/kernel/mm/hugetlb_fault.js";
import { NIL } from "../../src/kernel/mm/memmap.js";
import { VmArea } from "../../src/kernel/mm/mm_types.js";
import { pmd_index } from "../../src/kernel/mm/pgtable.js";
import { boot, fault, file, mapFile, named, SHARED_RW, type Env } from "./util.js";

const BASE = 0x7e0000000000; // 2 MiB (and 1 GiB) aligned

function pmdEntry(env: Env, addr: number): { pfn: number; bits: number } {
  const t = env.t.mm!.pgtables.pmdTable(addr, false)!;
  return { pfn: t.pfn[pmd_index(addr)], bits: t.bits[pmd_index(addr)] };
}

function hugeMemfd(env: Env, size: number): number {
  const fd = memfd_create(env.k, env.t, "huge", MFD.MFD_HUGETLB | MFD.MFD_HUGE_2MB);
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(sys_ftruncate(env.k, env.t, fd, size)).toBe(0);
  return fd;
}

describe("hugetlbfs (fs/hugetlbfs/inode.c, mm/hugetlb.c)", () => {
  it("a shared fault puts a zeroed pool folio in the page cache at its first base-page index", () => {
    const env = boot({ hugetlb2M: 4 });
    const { k, t } = env;
    const h = k.hstates[0];
    const fd = hugeMemfd(env, 2 * HPAGE_PMD_SIZE);
    const vma = mapFile(env, file(t, fd), BASE, 2 * HPAGE_PMD_NR, SHARED_RW);
    expect(vma.vm_flags & VM_HUGETLB).toBeTruthy();
    expect(vma.vm_ops?.name).toBe("hugetlbfs");
    expect(vma.vm_ops?.hugePages).toBe(512);
    // the shared mapping reserved both huge pages
    expect(h.resvHugePages).toBe(2);
    expect(fault(env, vma, BASE + HPAGE_PMD_SIZE + 5 * PAGE_SIZE, true)).toBe(0);
    const inode = file(t, fd).inode!;
    const folio = page_cache_lookup(inode.mapping, HPAGE_PMD_NR);
    expect(folio).not.toBe(NIL);
    expect(page_cache_lookup(inode.mapping, HPAGE_PMD_NR + 7)).toBe(folio);
    expect(k.memmap.index(folio)).toBe(HPAGE_PMD_NR);
    expect(k.memmap.mapping(folio)).toBe(inode.id);
    expect(k.memmap.test(folio, PG.hugetlb)).toBe(true);
    expect(k.memmap.test(folio, PG.dirty)).toBe(true);
    expect(k.memmap.content(folio + 5)).toBe(0);
    // 512 page-cache references + the mapping's
    expect(folio_ref_count(k, folio)).toBe(HPAGE_PMD_NR + 1);
    const e = pmdEntry(env, BASE + HPAGE_PMD_SIZE);
    expect(e.pfn).toBe(folio);
    expect(e.bits & PTE.LEAF).toBeTruthy();
    // the reservation was consumed
    expect(h.resvHugePages).toBe(1);
    expect(h.freeHugePages).toBe(3);
  });

  it("a fault beyond EOF is SIGBUS, and so is one the pool cannot serve", () => {
    const env = boot({ hugetlb2M: 1 });
    const { k, t } = env;
    const fd = hugeMemfd(env, HPAGE_PMD_SIZE);
    // read-only: a writable mapping would grow i_size to cover itself (hugetlbfs_file_mmap())
    const vmaA = new VmArea(
      t.mm!,
      BASE,
      BASE + 2 * HPAGE_PMD_SIZE,
      (SHARED_RW & ~VM_WRITE) | VM_NORESERVE,
      0,
      null,
      null,
    );
    expect(file(t, fd).mmap(k, vmaA)).toBe(0);
    t.mm!.insertVma(vmaA);
    expect(fault(env, vmaA, BASE + HPAGE_PMD_SIZE, false)).toBe(VM_FAULT.SIGBUS);
    // another file takes the only page; this one finds the pool empty
    const fd2 = hugeMemfd(env, HPAGE_PMD_SIZE);
    const vmaB = new VmArea(
      t.mm!,
      BASE + 0x40000000,
      BASE + 0x40000000 + HPAGE_PMD_SIZE,
      SHARED_RW | VM_NORESERVE,
      0,
      null,
      null,
    );
    expect(file(t, fd2).mmap(k, vmaB)).toBe(0);
    t.mm!.insertVma(vmaB);
    expect(fault(env, vmaB, vmaB.vm_start, true)).toBe(0);
    expect(fault(env, vmaA, BASE, false)).toBe(VM_FAULT.SIGBUS);
    expect(named(env.events, "hugetlb_no_page_sigbus")).toHaveLength(1);
  });

  it("shared mappings reserve at mmap time: -ENOMEM when the pool cannot cover them, unless VM_NORESERVE", () => {
    const env = boot({ hugetlb2M: 2 });
    const { k, t } = env;
    const h = k.hstates[0];
    const fd = hugeMemfd(env, 3 * HPAGE_PMD_SIZE);
    const big = new VmArea(t.mm!, BASE, BASE + 3 * HPAGE_PMD_SIZE, SHARED_RW, 0, null, null);
    expect(file(t, fd).mmap(k, big)).toBe(-ENOMEM);
    expect(h.resvHugePages).toBe(0);
    const two = new VmArea(t.mm!, BASE, BASE + 2 * HPAGE_PMD_SIZE, SHARED_RW, 0, null, null);
    expect(file(t, fd).mmap(k, two)).toBe(0);
    expect(h.resvHugePages).toBe(2);
    // mapping the same range again reserves nothing more
    const again = new VmArea(
      t.mm!,
      BASE + 0x40000000,
      BASE + 0x40000000 + 2 * HPAGE_PMD_SIZE,
      SHARED_RW,
      0,
      null,
      null,
    );
    expect(file(t, fd).mmap(k, again)).toBe(0);
    expect(h.resvHugePages).toBe(2);
    const nores = new VmArea(t.mm!, BASE, BASE + 3 * HPAGE_PMD_SIZE, SHARED_RW | VM_NORESERVE, 0, null, null);
    expect(file(t, fd).mmap(k, nores)).toBe(0);
    // a misaligned file offset is -EINVAL
    const odd = new VmArea(t.mm!, BASE, BASE + HPAGE_PMD_SIZE, SHARED_RW, 1, null, null);
    expect(file(t, fd).mmap(k, odd)).toBe(-EINVAL);
  });

  it("truncate returns unused reservations and frees folios to the pool; a pinned folio stays as an orphan", () => {
    const env = boot({ hugetlb2M: 2 });
    const { k, t } = env;
    const h = k.hstates[0];
    const fd = hugeMemfd(env, 2 * HPAGE_PMD_SIZE);
    const vma = mapFile(env, file(t, fd), BASE, 2 * HPAGE_PMD_NR, SHARED_RW);
    expect(fault(env, vma, BASE, true)).toBe(0);
    const folio = pmdEntry(env, BASE).pfn;
    // pin it (large folios count pins in _pincount)
    folio_ref_add(k, folio, 1);
    folio_add_pincount(k, folio, 1);
    expect(folio_maybe_dma_pinned(k, folio)).toBe(true);
    expect(h.resvHugePages).toBe(1);
    expect(sys_ftruncate(k, t, fd, 0)).toBe(0);
    expect(h.resvHugePages).toBe(0);
    expect(pmdEntry(env, BASE).bits).toBe(0);
    expect(k.memmap.mapping(folio)).toBe(0);
    expect(folio_ref_count(k, folio)).toBe(1);
    expect(named(env.events, "truncate_folio").at(-1)!.args).toMatchObject({ pinned: true, orphan: true });
    expect(h.freeHugePages).toBe(1);
    folio_add_pincount(k, folio, -1);
    folio_put(k, folio);
    expect(h.freeHugePages).toBe(2);
    // ftruncate must be huge-page aligned
    expect(sys_ftruncate(k, t, fd, PAGE_SIZE)).toBe(-EINVAL);
  });

  it("a writable shared mapping grows the file to cover itself", () => {
    const env = boot({ hugetlb2M: 2 });
    const fd = hugeMemfd(env, 0);
    mapFile(env, file(env.t, fd), BASE, 2 * HPAGE_PMD_NR, SHARED_RW);
    expect(file(env.t, fd).inode!.i_size).toBe(2 * HPAGE_PMD_SIZE);
  });

  it("hugetlb_file_setup: MAP_HUGETLB anonymous memory is an unnamed hugetlbfs file mapped from offset 0", () => {
    const env = boot({ hugetlb2M: 1 });
    const { k, t } = env;
    const h = k.hstates[0];
    const mm = t.mm!;
    const vma = new VmArea(
      mm,
      BASE,
      BASE + HPAGE_PMD_SIZE,
      SHARED_RW | VM_HUGETLB,
      BASE / PAGE_SIZE,
      null,
      null,
    );
    set_hugetlb_vma(vma, { h, resv: null, unmapped: false });
    expect(hugetlb_file_setup(k, vma, h)).toBe(0);
    mm.insertVma(vma);
    expect(vma.vm_pgoff).toBe(0);
    const inode = inode_by_id(k, vma.vm_file!.inodeId)!;
    expect(inode.i_size).toBe(HPAGE_PMD_SIZE);
    expect(h.resvHugePages).toBe(1);
    expect(fault(env, vma, BASE, true)).toBe(0);
    // a second shared mapping cannot be reserved
    const vma2 = new VmArea(
      mm,
      BASE + 0x40000000,
      BASE + 0x40000000 + HPAGE_PMD_SIZE,
      SHARED_RW | VM_HUGETLB,
      0,
      null,
      null,
    );
    set_hugetlb_vma(vma2, { h, resv: null, unmapped: false });
    expect(hugetlb_file_setup(k, vma2, h)).toBe(-ENOMEM);
    const vma3 = new VmArea(
      mm,
      BASE + 0x40000000,
      BASE + 0x40000000 + HPAGE_PMD_SIZE,
      SHARED_RW | VM_HUGETLB | VM_NORESERVE,
      0,
      null,
      null,
    );
    set_hugetlb_vma(vma3, { h, resv: null, unmapped: false });
    expect(hugetlb_file_setup(k, vma3, h)).toBe(0);
  });

  it("files on a hugetlbfs mount: no write(), no O_DIRECT; fallocate fills from the pool, punch hole empties", () => {
    const env = boot({ hugetlb2M: 2 });
    const { k, t } = env;
    const h = k.hstates[0];
    expect(do_mount(k, "hugetlbfs", "/huge")).toBe(0);
    expect(do_mount(k, "hugetlbfs", "/huge1g", { pagesize: 12345 })).toBe(-EINVAL);
    const fd = sys_open(k, t, "/huge/f", O_RDWR | O_CREAT, 0o600);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(sys_open(k, t, "/huge/f", O_RDWR | O_DIRECT)).toBe(-EINVAL);
    expect(sys_write(k, t, fd, 1, PAGE_SIZE)).toBe(-EINVAL);
    expect(sys_fallocate(k, t, fd, 0, 0, 2 * HPAGE_PMD_SIZE)).toBe(0);
    expect(h.freeHugePages).toBe(0);
    const inode = file(t, fd).inode!;
    expect(inode.i_size).toBe(2 * HPAGE_PMD_SIZE);
    const f0 = page_cache_lookup(inode.mapping, 0);
    expect(folio_ref_count(k, f0)).toBe(HPAGE_PMD_NR); // only the page cache's
    expect(sys_fallocate(k, t, fd, FALLOC_FL_KEEP_SIZE, 2 * HPAGE_PMD_SIZE, PAGE_SIZE)).toBe(-ENOSPC);
    k.memmap.setContent(f0 + 3, 0x33);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 3 * PAGE_SIZE)).toBe(0x33);
    expect(sys_fallocate(k, t, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, HPAGE_PMD_SIZE)).toBe(0);
    expect(page_cache_lookup(inode.mapping, 0)).toBe(NIL);
    expect(h.freeHugePages).toBe(1);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 3 * PAGE_SIZE)).toBe(0);
  });
});
