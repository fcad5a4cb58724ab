/**
 * gup-semantics.md §8, rules P0–P10, and the outcomes its sections 1–4
 * state, with real pins taken through the GUP entry points.
 */
import { describe, expect, it } from "vitest";
import { EAGAIN, EBUSY, EFAULT, EINTR } from "../../src/kernel/include/errno.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import {
  FALLOC,
  MADV,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  O_CREAT,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";
import { default_cma } from "../../src/kernel/mm/cma.js";
import { block_read_backing, lookup_inode } from "../../src/kernel/fs/index.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const K4 = 4096;
const M = 1024 * 1024;
const M2 = 2 * M;

function anon(m: Machine, pid: number, len: number, value: number): number {
  const a = m.mmap(pid, 0, len, RW, ANON, -1, 0);
  m.memset(pid, a, value, len);
  return a;
}

describe("P0/P1: pins are per folio; small folios look pinned at 1024 references", () => {
  it("pinning one subpage of a THP makes the whole folio maybe-pinned (_pincount)", () => {
    const m = new Machine({ thp: "always" });
    const A = m.spawn("A");
    const buf = anon(m, A, M2, 1);
    const { ret, pin } = m.gup("kernel", "pin_user_pages_fast", A, A, buf + 100 * K4, 1, 0);
    expect(ret).toBe(1);
    const f = m.page(pin!.pages[0]).folio;
    expect(m.page(f + 511).maybeDmaPinned).toBe(true);
    expect(m.page(f).pincount).toBe(1);
    m.unpin(pin!);
    expect(m.page(f).maybeDmaPinned).toBe(false);
  });
  it("a small folio: a pin adds GUP_PIN_COUNTING_BIAS (1024) references", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = anon(m, A, K4, 1);
    const pfn = m.translate(A, buf);
    const before = m.page(pfn).refcount;
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, buf, 1, 0);
    expect(m.page(pfn).refcount - before).toBe(1024);
    m.unpin(pin!);
    expect(m.page(pfn).refcount).toBe(before);
  });
});

describe("P2 and §2.3: R/O pins of non-exclusive anon pages unshare first", () => {
  it("a R/O pin taken after fork gives the pinner a private copy: later parent writes do not leak to the child (cow.c)", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = anon(m, A, K4, 0x11);
    const shared = m.translate(A, buf);
    const B = m.fork(A);
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, buf, 1, 0);
    expect(pin!.pages[0]).not.toBe(shared);
    expect(m.translate(A, buf)).toBe(pin!.pages[0]);
    expect(m.writable(A, buf)).toBe(false); // unshare maps the copy read-only
    m.store(A, buf, 0x22); // reuses the exclusive pinned page
    expect(m.translate(A, buf)).toBe(pin!.pages[0]);
    expect(m.dma_read(pin!)).toBe(0x22);
    expect(m.load(B, buf)).toBe(0x11);
  });
  it("a long-term R/O pin of a page-cache page in a COW mapping unshares it too; a short-term one does not", () => {
    const m = new Machine();
    const A = m.spawn("A");
    m.mount("ext4", "/d");
    const fd = m.open(A, "/d/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const p = m.mmap(A, 0, K4, RW, MAP_PRIVATE, fd, 0);
    m.load(A, p);
    const cache = m.translate(A, p);
    const short = m.gup("kernel", "pin_user_pages_fast", A, A, p, 1, 0);
    expect(short.pin!.pages[0]).toBe(cache);
    m.unpin(short.pin!);
    const long = m.gup("kernel", "pin_user_pages_fast", A, A, p, 1, FOLL_LONGTERM);
    expect(long.pin!.pages[0]).not.toBe(cache);
    expect(m.page(long.pin!.pages[0]).anon).toBe(true);
  });
});

describe("P3/P4 and §2.2: fork with pins", () => {
  it("the child gets a copy, the parent keeps the pinned page; process and device stay coherent", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = anon(m, A, K4, 0x11);
    const { pin } = m.gup("rdma", "pin_user_pages_fast", A, A, buf, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(m.task(A).mm!.hasPinned()).toBe(true);
    const B = m.fork(A);
    expect(m.translate(A, buf)).toBe(pin!.pages[0]);
    expect(m.translate(B, buf)).not.toBe(pin!.pages[0]);
    m.dma_write(pin!, 0x55);
    expect(m.load(A, buf)).toBe(0x55);
    expect(m.load(B, buf)).toBe(0x11);
  });
  it("MMF_HAS_PINNED is set by the first pin attempt, even a failed one, and never cleared", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const ro = m.mmap(A, 0, K4, PROT_READ, ANON, -1, 0);
    expect(m.gup("kernel", "pin_user_pages_fast", A, A, ro, 1, FOLL_WRITE).ret).toBe(-EFAULT);
    expect(m.task(A).mm!.hasPinned()).toBe(true);
    const B = m.fork(A);
    expect(m.task(B).mm!.hasPinned()).toBe(false); // not inherited
  });
});

describe("P5 and §1: long-term pins end in pinnable memory", () => {
  it("a long-term pin of a page in ZONE_MOVABLE migrates it out first; content is kept", () => {
    const m = new Machine({ memory: 4 * 1024 * M, movable: 2 * 1024 * M });
    const A = m.spawn("A");
    const buf = anon(m, A, M2, 0x5a);
    expect(m.page(m.translate(A, buf)).zone).toBe("Movable");
    const { ret } = m.gup("vfio", "pin_user_pages_remote", A, A, buf, 512, FOLL_WRITE | FOLL_LONGTERM);
    expect(ret).toBe(512);
    expect(m.page(m.translate(A, buf)).zone).not.toBe("Movable");
    expect(m.load(A, buf + 7 * K4)).toBe(0x5a);
  });
  it("(seed 004) a short-term pin_user_pages_unlocked leaves the page in ZONE_MOVABLE", () => {
    const m = new Machine({ memory: 4 * 1024 * M, movable: 2 * 1024 * M });
    const A = m.spawn("A");
    const buf = anon(m, A, K4, 1);
    const { pin } = m.gup("ivtv", "pin_user_pages_unlocked", A, A, buf, 1, FOLL_WRITE);
    expect(m.page(pin!.pages[0]).zone).toBe("Movable");
  });
  it("a writable long-term pin of a MAP_SHARED ext4 mapping is -EFAULT; a read-only one is allowed", () => {
    const m = new Machine();
    const A = m.spawn("A");
    m.mount("ext4", "/d");
    const fd = m.open(A, "/d/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const p = m.mmap(A, 0, K4, RW, MAP_SHARED, fd, 0);
    m.store(A, p, 1);
    expect(m.gup("kernel", "pin_user_pages_fast", A, A, p, 1, FOLL_WRITE | FOLL_LONGTERM).ret).toBe(-EFAULT);
    expect(m.gup("kernel", "pin_user_pages", A, A, p, 1, FOLL_WRITE | FOLL_LONGTERM).ret).toBe(-EFAULT);
    expect(m.gup("kernel", "pin_user_pages_fast", A, A, p, 1, FOLL_LONGTERM).ret).toBe(1);
  });
});

describe("P6 and §3: what needs refcount == expected fails on pinned folios", () => {
  function cmaCase(longterm: boolean, release: boolean, migration = true) {
    const m = new Machine({ memory: 256 * M, cma: 192 * M, kconfig: { MIGRATION: migration } });
    const A = m.spawn("A");
    const buf = anon(m, A, 4 * K4, 0x77);
    const { pin } = m.gup(
      "vfio",
      "pin_user_pages_remote",
      A,
      A,
      buf,
      4,
      FOLL_WRITE | (longterm ? FOLL_LONGTERM : 0),
    );
    if (release) m.unpin(pin!);
    const cma = default_cma(m.k)!;
    return { m, pin: pin!, r: m.cma_alloc(cma.count) };
  }
  it("(seed 000) vfio without FOLL_LONGTERM leaves the page in CMA: cma_alloc fails -EBUSY naming it", () => {
    const { m, pin, r } = cmaCase(false, false);
    expect(r.ret).toBe(-EBUSY);
    expect(r.blockers.map((b) => m.k.memmap.head(b))).toContain(m.k.memmap.head(pin.pages[0]));
  });
  it("with FOLL_LONGTERM the page was migrated out of CMA at pin time: cma_alloc succeeds", () => {
    expect(cmaCase(true, false).r.ret).toBe(0);
  });
  it("a short-term pin released before the allocation does not block it", () => {
    expect(cmaCase(false, true).r.ret).toBe(0);
  });
  it("without CONFIG_MIGRATION a long-term pin stays in CMA and blocks the allocation", () => {
    expect(cmaCase(true, false, false).r.ret).not.toBe(0);
  });
  it("offlining a movable block holding a pin never completes (the model stops after its budget: -EINTR)", () => {
    const m = new Machine({ memory: 1024 * M, movable: 256 * M });
    const A = m.spawn("A");
    const buf = anon(m, A, K4, 1);
    const { pin } = m.gup("kernel", "pin_user_pages_remote", A, A, buf, 1, FOLL_WRITE);
    const pfn = pin!.pages[0];
    const r = m.offline_pages(pfn - (pfn % 32768), 32768, 20);
    expect(r.ret).toBe(-EINTR);
    expect(r.wouldLoopForever).toBe(true);
    m.unpin(pin!);
    expect(m.offline_pages(pfn - (pfn % 32768), 32768, 20).ret).toBe(0);
  });
  it("MADV_COLLAPSE of a range holding a pinned page is -EAGAIN, and works after unpinning", () => {
    const m = new Machine({ thp: "madvise" });
    const A = m.spawn("A");
    const buf = anon(m, A, M2, 1);
    const { pin } = m.gup("io_uring", "pin_user_pages_fast", A, A, buf, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(m.madvise(A, buf, M2, MADV.MADV_COLLAPSE)).toBe(-EAGAIN);
    m.unpin(pin!);
    expect(m.madvise(A, buf, M2, MADV.MADV_COLLAPSE)).toBe(0);
  });
  it("UFFDIO_MOVE of a pinned page is -EBUSY", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const src = anon(m, A, K4, 1);
    const dst = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.gup("io_uring", "pin_user_pages_fast", A, A, src, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(m.uffdio_move(A, dst, src, K4)).toBe(-EBUSY);
  });
});

describe("P8 and §4: truncate, hole punch, DONTNEED and munmap ignore pins", () => {
  it("ftruncate of a pinned page leaves the pin on an orphan; later device writes reach nobody", () => {
    const m = new Machine();
    const A = m.spawn("A");
    m.mount("tmpfs", "/t");
    const fd = m.open(A, "/t/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const p = m.mmap(A, 0, K4, RW, MAP_SHARED, fd, 0);
    m.store(A, p, 0x01);
    const { pin } = m.gup("io_uring", "pin_user_pages_fast", A, A, p, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(m.ftruncate(A, fd, 0)).toBe(0);
    expect(m.ftruncate(A, fd, K4)).toBe(0);
    const orphan = m.page(pin!.pages[0]);
    expect(orphan.refcount).toBeGreaterThan(0);
    m.dma_write(pin!, 0x99);
    expect(m.load(A, p)).toBe(0);
    expect(m.read(A, fd, K4)).toBe(0);
    expect(m.translate(A, p)).not.toBe(pin!.pages[0]);
  });
  it("MADV_DONTNEED of a pinned anon page: the mapping reads zeroes, the device keeps the old page", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = anon(m, A, K4, 0x42);
    const { pin } = m.gup("io_uring", "pin_user_pages_fast", A, A, buf, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(m.madvise(A, buf, K4, MADV.MADV_DONTNEED)).toBe(0);
    expect(m.load(A, buf)).toBe(0);
    expect(m.dma_read(pin!)).toBe(0x42);
  });
  it("a hole punch keeps private COW copies but orphans the pinned page-cache folio", () => {
    const m = new Machine();
    const A = m.spawn("A");
    m.mount("tmpfs", "/t");
    const fd = m.open(A, "/t/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const p = m.mmap(A, 0, K4, RW, MAP_SHARED, fd, 0);
    m.store(A, p, 0x0d);
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, p, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(m.fallocate(A, fd, FALLOC.FALLOC_FL_PUNCH_HOLE | FALLOC.FALLOC_FL_KEEP_SIZE, 0, K4)).toBe(0);
    expect(m.load(A, p)).toBe(0);
    expect(m.dma_read(pin!)).toBe(0x0d);
  });
});

describe("P9 and §4.1: writeback ignores pins", () => {
  it("(seed 001) writeback cleans a pinned dirty ext4 page; a later device write is not in the file until re-dirtied", () => {
    const m = new Machine();
    const A = m.spawn("A");
    m.mount("ext4", "/d");
    const fd = m.open(A, "/d/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const p = m.mmap(A, 0, K4, RW, MAP_SHARED, fd, 0);
    m.store(A, p, 0x01);
    // a short-term writable pin is allowed on ext4 (O_DIRECT, process_vm_writev)
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, p, 1, FOLL_WRITE);
    expect(m.writeback("/d/f")).toBeGreaterThanOrEqual(0);
    const page = m.page(pin!.pages[0]);
    expect(page.dirty).toBe(false);
    expect(m.writable(A, p)).toBe(false); // folio_mkclean() write-protected it
    const disk = () => block_read_backing(lookup_inode(m.k, "/d/f")!, 0);
    expect(disk()).toBe(0x01);
    m.dma_write(pin!, 0x02);
    m.writeback("/d/f");
    expect(disk()).toBe(0x01); // the device's write is not in the file: nothing dirtied the folio
    // unpin_user_pages_dirty_lock() re-dirties it (without page_mkwrite); the next writeback writes it
    m.unpin(pin!, true);
    expect(m.page(pin!.pages[0]).dirty).toBe(true);
    m.writeback("/d/f");
    expect(disk()).toBe(0x02);
    expect(m.page(pin!.pages[0]).dirty).toBe(false);
  });
});

describe("P10: FOLL_GET references get none of the pin protections", () => {
  it("a page referenced by get_user_pages (not pinned) is shared at fork and replaced on the parent's write", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = anon(m, A, K4, 1);
    const { pin: ref } = m.gup("kernel", "get_user_pages_fast", A, A, buf, 1, FOLL_WRITE);
    expect(ref!.kind).toBe("ref");
    const B = m.fork(A);
    expect(m.translate(B, buf)).toBe(ref!.pages[0]);
    m.store(A, buf, 2);
    expect(m.translate(A, buf)).not.toBe(ref!.pages[0]); // the referenced page is no longer A's
  });
  it("private hugetlb: COW reuse is mapcount-based, so a reference holder sees the parent's later write", () => {
    const m = new Machine({ hugetlb2M: 4 });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON | MAP_HUGETLB, -1, 0);
    m.memset(A, buf, 1, M2);
    const B = m.fork(A);
    const { pin: ref } = m.gup("vmsplice", "get_user_pages_fast", B, B, buf, 1, 0);
    m.munmap(B, buf, M2);
    m.store(A, buf, 2);
    expect(m.dma_read(ref!)).toBe(2);
  });
});
