import { describe, expect, it } from "vitest";
import { Machine } from "../../src/kernel/machine.js";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_HUGETLB,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { EFAULT } from "../../src/kernel/include/errno.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function boot(cfg = {}) {
  const m = new Machine(cfg);
  const A = m.spawn("A");
  return { m, A };
}

describe("mm/memory.c: anonymous faults", () => {
  it("do_anonymous_page(): a read fault on untouched anon memory maps the shared zero page", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    expect(buf).toBeGreaterThan(0);
    expect(m.load(A, buf)).toBe(0);
    expect(m.translate(A, buf)).toBe(m.k.zeroPfn);
    expect(m.writable(A, buf)).toBe(false);
    expect(m.page(m.k.zeroPfn).refcount).toBe(1); // the zero page is never refcounted by mappings
  });

  it("do_anonymous_page(): a write fault allocates an exclusive, writable anon page", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    expect(m.store(A, buf, 0x11)).toBe(0);
    const pfn = m.translate(A, buf);
    const p = m.page(pfn);
    expect(pfn).not.toBe(m.k.zeroPfn);
    expect(p.anon && p.anonExclusive).toBe(true);
    expect(p.refcount).toBe(1);
    expect(p.mapcount).toBe(1);
    expect(m.writable(A, buf)).toBe(true);
  });

  it("do_wp_page(): write after a zero-page read replaces the zero page with a new page", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.load(A, buf);
    m.store(A, buf, 7);
    expect(m.translate(A, buf)).not.toBe(m.k.zeroPfn);
    expect(m.load(A, buf)).toBe(7);
  });

  it("access_error(): a store to PROT_READ memory is SIGSEGV (-EFAULT), the process lives on", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4096, PROT_READ, ANON, -1, 0);
    expect(m.store(A, buf, 1)).toBe(-EFAULT);
    expect(m.load(A, buf)).toBe(0);
  });
});

describe("fork and COW (mm/memory.c: copy_present_ptes(), do_wp_page())", () => {
  it("a write fault after fork copies; the other process keeps the old content", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 0x11);
    const before = m.translate(A, buf);
    const B = m.fork(A);
    expect(m.translate(B, buf)).toBe(before); // shared, write-protected
    expect(m.writable(A, buf)).toBe(false);
    expect(m.page(before).anonExclusive).toBe(false);
    expect(m.page(before).refcount).toBe(2);
    m.store(A, buf, 0x22);
    expect(m.translate(A, buf)).not.toBe(before);
    expect(m.load(A, buf)).toBe(0x22);
    expect(m.load(B, buf)).toBe(0x11);
  });

  it("wp_can_reuse_anon_folio(): after the other process exits the page is reused without a copy", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const B = m.fork(A);
    m.exit(B);
    m.store(A, buf, 2);
    expect(m.translate(A, buf)).toBe(pfn);
    expect(m.page(pfn).anonExclusive).toBe(true);
  });

  it("an exclusive anon page is reused on a write fault (mprotect round trip) without copying", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    m.mprotect(A, buf, 4096, PROT_READ);
    expect(m.writable(A, buf)).toBe(false);
    m.mprotect(A, buf, 4096, RW);
    m.store(A, buf, 2);
    expect(m.translate(A, buf)).toBe(pfn);
  });

  it("MADV_DONTFORK leaves the range out of the child; MADV_WIPEONFORK gives the child zeroes", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    const b = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, a, 5);
    m.store(A, b, 6);
    expect(m.madvise(A, a, 4096, MADV.MADV_DONTFORK)).toBe(0);
    expect(m.madvise(A, b, 4096, MADV.MADV_WIPEONFORK)).toBe(0);
    const B = m.fork(A);
    expect(m.load(B, a)).toBe(-EFAULT);
    expect(m.load(B, b)).toBe(0);
    expect(m.load(A, b)).toBe(6);
  });
});

describe("THP (mm/huge_memory.c)", () => {
  it("thp=madvise: a THP only with MADV_HUGEPAGE, on a 2M-aligned range", () => {
    const { m, A } = boot({ thp: "madvise" });
    const buf = m.mmap(A, 0, 2 << 20, RW, ANON, -1, 0);
    expect(buf % (2 << 20)).toBe(0);
    m.store(A, buf, 1);
    expect(m.page(m.translate(A, buf)).order).toBe(0);
    const buf2 = m.mmap(A, 0, 2 << 20, RW, ANON, -1, 0);
    expect(m.madvise(A, buf2, 2 << 20, MADV.MADV_HUGEPAGE)).toBe(0);
    m.store(A, buf2, 1);
    expect(m.page(m.translate(A, buf2)).order).toBe(9);
  });

  it("thp=always: any suitable anon range; thp=never: none", () => {
    const a = boot({ thp: "always" });
    const b1 = a.m.mmap(a.A, 0, 2 << 20, RW, ANON, -1, 0);
    a.m.store(a.A, b1, 1);
    expect(a.m.page(a.m.translate(a.A, b1)).order).toBe(9);
    const n = boot({ thp: "never" });
    const b2 = n.m.mmap(n.A, 0, 2 << 20, RW, ANON, -1, 0);
    n.m.madvise(n.A, b2, 2 << 20, MADV.MADV_HUGEPAGE);
    n.m.store(n.A, b2, 1);
    expect(n.m.page(n.m.translate(n.A, b2)).order).toBe(0);
  });

  it("a range smaller than 2M never gets a THP (thp_vma_suitable_order())", () => {
    const { m, A } = boot({ thp: "always" });
    const buf = m.mmap(A, 0, 1 << 20, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    expect(m.page(m.translate(A, buf)).order).toBe(0);
  });

  it("a read fault maps the huge zero folio; a write replaces it with a THP", () => {
    const { m, A } = boot({ thp: "always" });
    const buf = m.mmap(A, 0, 2 << 20, RW, ANON, -1, 0);
    expect(m.load(A, buf)).toBe(0);
    expect(m.page(m.translate(A, buf)).zeroPage).toBe(true);
    m.store(A, buf + 4096, 3);
    const p = m.page(m.translate(A, buf + 4096));
    expect(p.order).toBe(9);
    expect(p.zeroPage).toBe(false);
  });
});

describe("hugetlb (mm/hugetlb.c)", () => {
  it("a fault with an empty pool is SIGBUS (-EFAULT for the access)", () => {
    const { m, A } = boot({ hugetlb2M: 0, hugetlbOvercommit2M: 0 });
    const buf = m.mmap(A, 0, 2 << 20, RW, ANON | MAP_HUGETLB | 0x4000 /* MAP_NORESERVE */, -1, 0);
    expect(buf).toBeGreaterThan(0);
    expect(m.store(A, buf, 1)).toBe(-EFAULT);
  });

  it("without MAP_NORESERVE, mmap itself fails when the pool cannot cover the reservation", () => {
    const { m, A } = boot({ hugetlb2M: 1 });
    expect(m.mmap(A, 0, 4 << 20, RW, ANON | MAP_HUGETLB, -1, 0)).toBe(-12);
    const buf = m.mmap(A, 0, 2 << 20, RW, ANON | MAP_HUGETLB, -1, 0);
    expect(m.store(A, buf, 9)).toBe(0);
    const p = m.page(m.translate(A, buf));
    expect(p.hugetlb && p.anonExclusive).toBe(true);
    expect(p.order).toBe(9);
  });
});

describe("page_alloc: zones", () => {
  it("movable user pages land in ZONE_MOVABLE; kernel pages never do", () => {
    const { m, A } = boot({ memory: 4 * 1024 ** 3, movable: 2 * 1024 ** 3 });
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    expect(m.page(m.translate(A, buf)).zone).toBe("Movable");
    const kpfn = m.k.pa.alloc_pages(0, 0);
    expect(m.page(kpfn).zone).not.toBe("Movable");
  });

  it("a 1 TiB machine boots lazily", () => {
    const m = new Machine({ memory: 1024 ** 4 });
    expect(m.k.memmap.bytesAllocated()).toBeLessThan(1 << 20);
  });
});
