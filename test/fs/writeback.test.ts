import { describe, it, expect } from "vitest";
import { O_CREAT, O_RDWR } from "../../src/kernel/include/mman.js";
import { PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import { PTE } from "../../src/kernel/include/pgtable.js";
import {
  do_mount,
  lookup_inode,
  sys_fsync,
  sys_open,
  sys_write,
  try_to_free_buffers,
  WB_SYNC_ALL,
} from "../../src/kernel/fs/index.js";
import { page_cache_lookup } from "../../src/kernel/mm/filemap.js";
import { folio_ref_add, folio_ref_count, GUP_PIN_COUNTING_BIAS } from "../../src/kernel/mm/folio.js";
import { folio_mark_dirty, writeback_complete, writeback_inode } from "../../src/kernel/mm/page_writeback.js";
import { boot, file, mapFile, MMAP_BASE, named, pteBits, SHARED_RW, store } from "./util.js";

function setup(fs: "ext4" | "xfs" | "btrfs" = "ext4") {
  const env = boot();
  expect(do_mount(env.k, fs, "/data")).toBe(0);
  const fd = sys_open(env.k, env.t, "/data/f", O_RDWR | O_CREAT, 0o644);
  const inode = lookup_inode(env.k, "/data/f")!;
  return { ...env, fd, inode };
}

/** A device write through a pin: the page changes, nobody dirties it. */
function dmaWrite(k: ReturnType<typeof boot>["k"], pfn: number, v: number): void {
  k.memmap.setContent(pfn, v);
}

describe("writeback (mm/page-writeback.c)", () => {
  it("fsync writes dirty folios to the backing store and cleans them", () => {
    const { k, t, fd, inode } = setup();
    sys_write(k, t, fd, 0x11, 2 * PAGE_SIZE);
    expect(sys_fsync(k, t, fd)).toBe(0);
    expect(inode.backing.get(0)).toBe(0x11);
    expect(inode.backing.get(1)).toBe(0x11);
    for (const idx of [0, 1]) {
      const folio = page_cache_lookup(inode.mapping, idx);
      expect(k.memmap.test(folio, PG.dirty)).toBe(false);
      expect(k.memmap.test(folio, PG.writeback)).toBe(false);
    }
    expect(k.vmstat.nr_written).toBe(2);
  });

  it("cleaning write-protects and cleans the PTEs of shared mappings; the next store goes through page_mkwrite", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0, PAGE_SIZE);
    sys_fsync(k, t, fd);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x100000, 1, SHARED_RW);
    expect(store(env, vma, vma.vm_start, 0x22)).toBe(0);
    const folio = page_cache_lookup(inode.mapping, 0);
    expect(k.memmap.test(folio, PG.dirty)).toBe(true);
    expect(pteBits(vma, vma.vm_start) & PTE.WRITE).toBeTruthy();
    expect(sys_fsync(k, t, fd)).toBe(0);
    expect(inode.backing.get(0)).toBe(0x22);
    expect(pteBits(vma, vma.vm_start) & (PTE.WRITE | PTE.DIRTY)).toBe(0);
    const ev = named(env.events, "writeback_clean").at(-1)!;
    expect(ev.args).toMatchObject({ pfn: folio, inode: inode.id, index: 0, pinned: false, ptes: 1 });
    expect(ev.where).toBe("mm/page-writeback.c: folio_clear_dirty_for_io()");
    // the next store faults (write-protected) and dirties the folio again
    expect(store(env, vma, vma.vm_start, 0x33)).toBe(0);
    expect(k.memmap.test(folio, PG.dirty)).toBe(true);
    sys_fsync(k, t, fd);
    expect(inode.backing.get(0)).toBe(0x33);
  });

  it("writeback ignores pins (P9): a pinned folio is cleaned, and the tracepoint says it was pinned", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const folio = page_cache_lookup(inode.mapping, 0);
    folio_ref_add(k, folio, GUP_PIN_COUNTING_BIAS);
    expect(sys_fsync(k, t, fd)).toBe(0);
    expect(k.memmap.test(folio, PG.dirty)).toBe(false);
    expect(inode.backing.get(0)).toBe(0x1);
    expect(named(env.events, "writeback_clean").at(-1)!.args.pinned).toBe(true);
  });

  it("a device write after cleaning is lost until the folio is dirtied again", () => {
    const { k, t, fd, inode } = setup("xfs");
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const folio = page_cache_lookup(inode.mapping, 0);
    folio_ref_add(k, folio, GUP_PIN_COUNTING_BIAS);
    sys_fsync(k, t, fd);
    dmaWrite(k, folio, 0x55);
    sys_fsync(k, t, fd);
    expect(inode.backing.get(0)).toBe(0x1); // lost: the folio was clean
    // unpin_user_pages_dirty_lock(): folio_mark_dirty() without page_mkwrite
    expect(folio_mark_dirty(k, folio)).toBe(true);
    sys_fsync(k, t, fd);
    expect(inode.backing.get(0)).toBe(0x55);
  });

  it("ext4: buffers freed after cleaning, then re-dirtied through a pin: WARN, and writeback drops the data", () => {
    const env = setup("ext4");
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const folio = page_cache_lookup(inode.mapping, 0);
    folio_ref_add(k, folio, GUP_PIN_COUNTING_BIAS);
    sys_fsync(k, t, fd);
    const refs = folio_ref_count(k, folio);
    // reclaim / invalidation strips the buffers of the clean folio
    expect(try_to_free_buffers(k, folio)).toBe(true);
    expect(k.memmap.test(folio, PG.private)).toBe(false);
    expect(folio_ref_count(k, folio)).toBe(refs - 1);
    dmaWrite(k, folio, 0x66);
    folio_mark_dirty(k, folio);
    const warns = named(env.events, "warn").map((e) => e.where);
    expect(warns).toContain("fs/ext4/inode.c: ext4_dirty_folio()");
    expect(sys_fsync(k, t, fd)).toBe(0);
    expect(named(env.events, "warn").map((e) => e.where)).toContain(
      "fs/ext4/inode.c: mpage_prepare_extent_to_map()",
    );
    expect(named(env.events, "writeback_no_buffers")[0].args).toMatchObject({
      pfn: folio,
      pinned: true,
      content: 0x66,
    });
    expect(inode.backing.get(0)).toBe(0x1); // the device's data never reached the disk
    expect(k.memmap.test(folio, PG.dirty)).toBe(false);
  });

  it("xfs writes a folio dirtied without page_mkwrite", () => {
    const env = setup("xfs");
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    sys_fsync(k, t, fd);
    const folio = page_cache_lookup(inode.mapping, 0);
    expect(try_to_free_buffers(k, folio)).toBe(true);
    dmaWrite(k, folio, 0x66);
    folio_mark_dirty(k, folio);
    sys_fsync(k, t, fd);
    expect(inode.backing.get(0)).toBe(0x66);
    expect(named(env.events, "warn")).toHaveLength(0);
  });

  it("btrfs: the cow fixup re-dirties an unannounced dirty folio; the next writeback writes it", () => {
    const env = setup("btrfs");
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    sys_fsync(k, t, fd);
    const folio = page_cache_lookup(inode.mapping, 0);
    expect(try_to_free_buffers(k, folio)).toBe(true);
    dmaWrite(k, folio, 0x77);
    folio_mark_dirty(k, folio);
    sys_fsync(k, t, fd);
    expect(named(env.events, "btrfs_cow_fixup")).toHaveLength(1);
    expect(inode.backing.get(0)).toBe(0x1);
    expect(k.memmap.test(folio, PG.dirty)).toBe(true);
    sys_fsync(k, t, fd);
    expect(inode.backing.get(0)).toBe(0x77);
  });

  it("try_to_free_buffers refuses dirty folios and folios under writeback", () => {
    const { k, t, fd, inode } = setup();
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const folio = page_cache_lookup(inode.mapping, 0);
    expect(try_to_free_buffers(k, folio)).toBe(false);
    expect(writeback_inode(k, inode, { async: true })).toBe(1);
    expect(k.memmap.test(folio, PG.writeback)).toBe(true);
    expect(try_to_free_buffers(k, folio)).toBe(false);
    writeback_complete(k);
    expect(try_to_free_buffers(k, folio)).toBe(true);
  });

  it("in-flight writeback: the device sees what the page holds at completion; background writeback skips it", () => {
    const env = setup();
    const { k, t, fd, inode } = env;
    sys_write(k, t, fd, 0x1, PAGE_SIZE);
    const folio = page_cache_lookup(inode.mapping, 0);
    writeback_inode(k, inode, { async: true });
    expect(k.memmap.test(folio, PG.writeback)).toBe(true);
    expect(inode.backing.has(0)).toBe(false);
    // written through a pin while under writeback, then dirtied
    dmaWrite(k, folio, 0x99);
    folio_mark_dirty(k, folio);
    expect(writeback_inode(k, inode)).toBe(0); // WB_SYNC_NONE skips folios under writeback
    expect(writeback_complete(k)).toBe(1);
    expect(inode.backing.get(0)).toBe(0x99);
    expect(k.memmap.test(folio, PG.dirty)).toBe(true);
    expect(writeback_inode(k, inode, { sync_mode: WB_SYNC_ALL })).toBe(1);
    expect(named(env.events, "writeback_end").at(-1)!.args.content).toBe(0x99);
  });

  it("an anonymous folio marked dirty is traced as anon, not as a file place", () => {
    const env = setup();
    const { k } = env;
    const pfn = k.pa.alloc_pages(0, 0);
    k.memmap.set(pfn, PG.anon);
    folio_mark_dirty(k, pfn);
    const ev = named(env.events, "folio_mark_dirty").at(-1)!;
    expect(ev.args.anon).toBe(true);
    expect(ev.args).not.toHaveProperty("inode");
    expect(ev.args).not.toHaveProperty("index");
  });

  it("an orphan (truncated) folio marked dirty is just PG_dirty", () => {
    const { k } = setup();
    const pfn = k.pa.alloc_pages(0, 0);
    expect(folio_mark_dirty(k, pfn)).toBe(true);
    expect(k.memmap.test(pfn, PG.dirty)).toBe(true);
  });
});
