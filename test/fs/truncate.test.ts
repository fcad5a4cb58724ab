import { describe, it, expect } from "vitest";
import { EBUSY, EOPNOTSUPP } from "../../src/kernel/include/errno.js";
import { O_CREAT, O_RDWR } from "../../src/kernel/include/mman.js";
import { PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import {
  do_mount,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  lookup_inode,
  sys_fallocate,
  sys_fsync,
  sys_ftruncate,
  sys_open,
  sys_pread64,
  sys_pwrite64,
  sys_write,
} from "../../src/kernel/fs/index.js";
import { page_cache_lookup } from "../../src/kernel/mm/filemap.js";
import {
  folio_put_refs,
  folio_ref_add,
  folio_ref_count,
  GUP_PIN_COUNTING_BIAS,
} from "../../src/kernel/mm/folio.js";
import { NIL } from "../../src/kernel/mm/memmap.js";
import { invalidate_inode_pages2_range } from "../../src/kernel/mm/truncate.js";
import {
  boot,
  fault,
  file,
  mapFile,
  MMAP_BASE,
  named,
  PRIVATE_RW,
  ptePfn,
  SHARED_RW,
  store,
} from "./util.js";

function setup() {
  const env = boot();
  expect(do_mount(env.k, "ext4", "/data")).toBe(0);
  const fd = sys_open(env.k, env.t, "/data/f", O_RDWR | O_CREAT, 0o644);
  const inode = lookup_inode(env.k, "/data/f")!;
  sys_write(env.k, env.t, fd, 0xab, 4 * PAGE_SIZE);
  sys_fsync(env.k, env.t, fd);
  return { ...env, fd, inode };
}

describe("truncate (mm/truncate.c)", () => {
  it("shrinking removes page-cache folios and disk blocks past EOF; unpinned folios are freed", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    const f3 = page_cache_lookup(inode.mapping, 3);
    expect(sys_ftruncate(k, t, fd, PAGE_SIZE)).toBe(0);
    expect(inode.i_size).toBe(PAGE_SIZE);
    expect([...inode.mapping.i_pages.keys()]).toEqual([0]);
    expect([...inode.backing.keys()]).toEqual([0]);
    expect(k.memmap.mapping(f3)).toBe(0);
    expect(folio_ref_count(k, f3)).toBe(0);
    const ev = named(env.events, "truncate_folio").find((e) => e.args.index === 3)!;
    expect(ev.args).toMatchObject({ pinned: false, orphan: false });
  });

  it("a pinned folio survives truncate as an orphan and is freed when the pin goes (P8)", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    const folio = page_cache_lookup(inode.mapping, 2);
    folio_ref_add(k, folio, GUP_PIN_COUNTING_BIAS);
    expect(sys_ftruncate(k, t, fd, 0)).toBe(0);
    expect(inode.mapping.nrpages).toBe(0);
    expect(k.memmap.mapping(folio)).toBe(0);
    expect(k.memmap.test(folio, PG.private)).toBe(false);
    expect(folio_ref_count(k, folio)).toBe(GUP_PIN_COUNTING_BIAS);
    expect(k.memmap.content(folio)).toBe(0xab);
    expect(named(env.events, "truncate_folio").find((e) => e.args.pfn === folio)!.args).toMatchObject({
      pinned: true,
      orphan: true,
    });
    const zone = k.pa.zoneOf(folio);
    const free = zone.freePages;
    folio_put_refs(k, folio, GUP_PIN_COUNTING_BIAS);
    expect(folio_ref_count(k, folio)).toBe(0);
    expect(zone.freePages).toBe(free + 1);
  });

  it("truncate then extend: the mapping faults in a fresh zero page while the pinned orphan keeps the old data", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 4, SHARED_RW);
    expect(fault(env, vma, vma.vm_start, false)).toBe(0);
    const old = ptePfn(vma, vma.vm_start)!;
    folio_ref_add(k, old, GUP_PIN_COUNTING_BIAS);
    sys_ftruncate(k, t, fd, 0);
    expect(ptePfn(vma, vma.vm_start)).toBeNull(); // zapped
    expect(k.memmap.mapcount(old)).toBe(0);
    sys_ftruncate(k, t, fd, 4 * PAGE_SIZE);
    expect(store(env, vma, vma.vm_start, 0x44)).toBe(0);
    const fresh = ptePfn(vma, vma.vm_start)!;
    expect(fresh).not.toBe(old);
    expect(page_cache_lookup(inode.mapping, 0)).toBe(fresh);
    expect(k.memmap.content(old)).toBe(0xab);
  });

  it("truncate zaps private COW copies too; a hole punch keeps them", () => {
    const env = setup();
    const { k, t, fd } = env;
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 4, PRIVATE_RW);
    store(env, vma, vma.vm_start, 0x1);
    store(env, vma, vma.vm_start + PAGE_SIZE, 0x2);
    const cow1 = ptePfn(vma, vma.vm_start + PAGE_SIZE)!;
    expect(k.memmap.test(cow1, PG.anon)).toBe(true);
    expect(sys_fallocate(k, t, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 * PAGE_SIZE)).toBe(0);
    expect(ptePfn(vma, vma.vm_start + PAGE_SIZE)).toBe(cow1);
    expect(sys_ftruncate(k, t, fd, PAGE_SIZE)).toBe(0);
    expect(ptePfn(vma, vma.vm_start + PAGE_SIZE)).toBeNull();
    expect(ptePfn(vma, vma.vm_start)).not.toBeNull(); // inside EOF
  });

  it("punch hole drops the range's folios and blocks; reads see zeros; needs KEEP_SIZE", () => {
    const { k, t, fd, inode } = setup();
    expect(sys_fallocate(k, t, fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE_SIZE)).toBe(-EOPNOTSUPP);
    expect(
      sys_fallocate(k, t, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE_SIZE, 2 * PAGE_SIZE),
    ).toBe(0);
    expect([...inode.mapping.i_pages.keys()].sort()).toEqual([0, 3]);
    expect([...inode.backing.keys()].sort()).toEqual([0, 3]);
    expect(inode.i_size).toBe(4 * PAGE_SIZE);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 3 * PAGE_SIZE)).toBe(0xab);
  });

  it("a partial page at the edge of a hole stays cached", () => {
    const { k, t, fd, inode } = setup();
    sys_fallocate(k, t, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, PAGE_SIZE);
    expect(inode.mapping.nrpages).toBe(4);
  });

  it("zero range zeroes blocks and drops cached pages; allocate extends the file unless KEEP_SIZE", () => {
    const { k, t, fd, inode } = setup();
    expect(sys_fallocate(k, t, fd, FALLOC_FL_ZERO_RANGE, PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(page_cache_lookup(inode.mapping, 1)).toBe(NIL);
    expect(inode.backing.get(1)).toBe(0);
    expect(sys_fallocate(k, t, fd, FALLOC_FL_KEEP_SIZE, 4 * PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(inode.i_size).toBe(4 * PAGE_SIZE);
    expect(inode.backing.get(4)).toBe(0);
    expect(sys_fallocate(k, t, fd, 0, 6 * PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(inode.i_size).toBe(7 * PAGE_SIZE);
  });

  it("growing keeps blocks preallocated past EOF; shrinking frees them", () => {
    const { k, t, fd, inode } = setup();
    expect(sys_fallocate(k, t, fd, FALLOC_FL_KEEP_SIZE, 8 * PAGE_SIZE, PAGE_SIZE)).toBe(0);
    expect(sys_ftruncate(k, t, fd, 6 * PAGE_SIZE)).toBe(0);
    expect(inode.backing.has(8)).toBe(true);
    expect(sys_ftruncate(k, t, fd, 6 * PAGE_SIZE)).toBe(0);
    expect(inode.backing.has(8)).toBe(false);
  });

  it("invalidate_inode_pages2_range refuses dirty folios but not pinned clean ones", () => {
    const { k, t, fd, inode } = setup();
    const clean = page_cache_lookup(inode.mapping, 0);
    folio_ref_add(k, clean, GUP_PIN_COUNTING_BIAS);
    expect(invalidate_inode_pages2_range(k, inode.mapping, 0, 0)).toBe(0);
    expect(k.memmap.mapping(clean)).toBe(0);
    sys_pwrite64(k, t, fd, 0x3, PAGE_SIZE, 0);
    const dirty = page_cache_lookup(inode.mapping, 0);
    expect(invalidate_inode_pages2_range(k, inode.mapping, 0, 0)).toBe(-EBUSY);
    expect(page_cache_lookup(inode.mapping, 0)).toBe(dirty);
  });
});
