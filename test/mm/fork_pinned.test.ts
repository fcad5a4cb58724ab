/**
 * The fork rule for pages that may be pinned (mm/memory.c: copy_present_ptes(),
 * include/linux/rmap.h: __folio_try_dup_anon_rmap(), include/linux/mm.h:
 * folio_needs_cow_for_dma(); gup-semantics.md P3/P4). The pin itself comes
 * from the GUP layer; here it is simulated the way it is counted: a small
 * folio gains GUP_PIN_COUNTING_BIAS references, a large one _pincount + 1,
 * and the mm gets MMF_HAS_PINNED.
 */
import { describe, expect, it } from "vitest";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { ENOMEM } from "../../src/kernel/include/errno.js";
import { Machine } from "../../src/kernel/machine.js";
import { folio_add_pincount, folio_ref_add, GUP_PIN_COUNTING_BIAS } from "../../src/kernel/mm/folio.js";
import { MMF_HAS_PINNED } from "../../src/kernel/mm/mm_types.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const M2 = 2 * 1024 * 1024;

function fakePin(m: Machine, pid: number, addr: number): number {
  const pfn = m.translate(pid, addr);
  const folio = m.k.memmap.head(pfn);
  if (m.k.memmap.order(folio) > 0) {
    folio_add_pincount(m.k, folio, 1);
    folio_ref_add(m.k, folio, 1);
  } else folio_ref_add(m.k, folio, GUP_PIN_COUNTING_BIAS);
  m.task(pid).mm!.flags |= MMF_HAS_PINNED;
  return pfn;
}

describe("fork copies maybe-pinned exclusive anon pages for the child (P3)", () => {
  it("small page: the child gets a copy now, the parent keeps the pinned page writable", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 0x11);
    const pinned = fakePin(m, A, buf);
    const B = m.fork(A);
    expect(m.translate(A, buf)).toBe(pinned);
    expect(m.translate(B, buf)).not.toBe(pinned);
    expect(m.writable(A, buf)).toBe(true);
    expect(m.page(pinned).anonExclusive).toBe(true);
    expect(m.load(B, buf)).toBe(0x11);
    // the parent writes without a fault: the device (through the pin) sees it, the child does not
    m.store(A, buf, 0x22);
    expect(m.translate(A, buf)).toBe(pinned);
    expect(m.k.memmap.content(pinned)).toBe(0x22);
    expect(m.load(B, buf)).toBe(0x11);
  });

  it("without MMF_HAS_PINNED (P4) the same refcount does not force a copy", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    folio_ref_add(m.k, pfn, GUP_PIN_COUNTING_BIAS);
    const B = m.fork(A);
    expect(m.translate(B, buf)).toBe(pfn);
  });

  it("1024 plain references look pinned (folio_maybe_dma_pinned false positive) and also force the copy", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    folio_ref_add(m.k, pfn, 1023); // 1 (mapping) + 1023 = 1024
    m.task(A).mm!.flags |= MMF_HAS_PINNED;
    expect(m.page(pfn).maybeDmaPinned).toBe(true);
    const B = m.fork(A);
    expect(m.translate(B, buf)).not.toBe(pfn);
  });

  it("a non-exclusive page is shared even if pinned (the pin predates a previous fork's sharing)", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    m.fork(A); // now shared and not exclusive
    folio_ref_add(m.k, pfn, GUP_PIN_COUNTING_BIAS);
    m.task(A).mm!.flags |= MMF_HAS_PINNED;
    const C = m.fork(A);
    expect(m.translate(C, buf)).toBe(pfn);
  });

  it("THP: pinning one subpage copies all 512 subpages for the child and splits the parent's PMD", () => {
    const m = new Machine({ thp: "always" });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    m.memset(A, buf, 0x5a, M2);
    const folio = m.page(m.translate(A, buf)).folio;
    expect(m.page(folio).order).toBe(9);
    fakePin(m, A, buf + 4096 * 7);
    const splitsBefore = m.k.vmstat.thp_split_pmd;
    const B = m.fork(A);
    expect(m.k.vmstat.thp_split_pmd).toBe(splitsBefore + 1);
    for (const off of [0, 7, 511]) {
      expect(m.translate(A, buf + off * 4096)).toBe(folio + off);
      const c = m.translate(B, buf + off * 4096);
      expect(m.k.memmap.head(c)).not.toBe(folio);
      expect(m.load(B, buf + off * 4096)).toBe(0x5a);
    }
    expect(m.k.vmstat.fork_copy_pinned).toBe(512);
  });

  it("THP not pinned: fork shares the PMD mapping write-protected", () => {
    const m = new Machine({ thp: "always" });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    m.memset(A, buf, 1, M2);
    const folio = m.translate(A, buf);
    const B = m.fork(A);
    expect(m.translate(B, buf)).toBe(folio);
    expect(m.page(folio).mapcount).toBe(2);
    expect(m.writable(A, buf)).toBe(false);
  });

  it("hugetlb: a pinned private huge page is copied at fork; with no free huge page fork fails -ENOMEM", () => {
    const m = new Machine({ hugetlb2M: 1 });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON | MAP_HUGETLB, -1, 0);
    m.store(A, buf, 3);
    fakePin(m, A, buf);
    expect(m.fork(A)).toBe(-ENOMEM);
    const m2 = new Machine({ hugetlb2M: 2 });
    const A2 = m2.spawn("A");
    const b2 = m2.mmap(A2, 0, M2, RW, ANON | MAP_HUGETLB, -1, 0);
    m2.store(A2, b2, 3);
    const pinned = fakePin(m2, A2, b2);
    const B2 = m2.fork(A2);
    expect(B2).toBeGreaterThan(0);
    expect(m2.translate(B2, b2)).not.toBe(pinned);
    expect(m2.load(B2, b2)).toBe(3);
  });

  it("MADV_DONTFORK'd pinned memory is simply absent in the child", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    fakePin(m, A, buf);
    m.madvise(A, buf, 4096, MADV.MADV_DONTFORK);
    const B = m.fork(A);
    expect(m.k.vmstat.fork_copy_pinned).toBe(0);
    expect(m.translate(B, buf)).toBeLessThan(0);
  });
});
