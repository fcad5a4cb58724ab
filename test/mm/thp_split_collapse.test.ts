/** THP split and collapse versus unexpected references (gup-semantics.md §3.5, P6). */
import { describe, expect, it } from "vitest";
import { EAGAIN, EINVAL } from "../../src/kernel/include/errno.js";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";
import { folio_ref_add, GUP_PIN_COUNTING_BIAS, folio_add_pincount } from "../../src/kernel/mm/folio.js";
import { deferred_split_scan, split_folio } from "../../src/kernel/mm/huge_memory.js";

const M2 = 2 * 1024 * 1024;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function freePages(m: Machine): number {
  return m.k.pa.zones.reduce((s, z) => s + (z ? z.freePages : 0), 0);
}

describe("MADV_COLLAPSE (mm/khugepaged.c: madvise_collapse())", () => {
  it("collapses 512 small pages into one THP, preserving content, even with thp=never", () => {
    const m = new Machine({ thp: "never" });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    for (let i = 0; i < 512; i += 3) m.store(A, buf + i * 4096, i);
    expect(m.madvise(A, buf, M2, MADV.MADV_COLLAPSE)).toBe(0);
    const p = m.page(m.translate(A, buf));
    expect(p.order).toBe(9);
    expect(m.load(A, buf + 9 * 4096)).toBe(9);
    expect(m.load(A, buf + 10 * 4096)).toBe(0);
  });
  it("one page with a pin (an unexpected reference) makes the collapse fail with -EAGAIN; after unpin it works", () => {
    const m = new Machine({ thp: "never" });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    m.memset(A, buf, 1, M2);
    const pinned = m.translate(A, buf + 4096 * 100);
    folio_ref_add(m.k, pinned, GUP_PIN_COUNTING_BIAS);
    expect(m.madvise(A, buf, M2, MADV.MADV_COLLAPSE)).toBe(-EAGAIN);
    expect(m.page(m.translate(A, buf)).order).toBe(0);
    folio_ref_add(m.k, pinned, -GUP_PIN_COUNTING_BIAS);
    expect(m.madvise(A, buf, M2, MADV.MADV_COLLAPSE)).toBe(0);
  });
  it("VM_NOHUGEPAGE forbids it (-EINVAL); a read-only range is -EINVAL (SCAN_PAGE_RO)", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    m.madvise(A, buf, M2, MADV.MADV_NOHUGEPAGE);
    expect(m.madvise(A, buf, M2, MADV.MADV_COLLAPSE)).toBe(-EINVAL);
    const ro = m.mmap(A, 0, M2, PROT_READ, ANON, -1, 0);
    m.load(A, ro);
    expect(m.madvise(A, ro, M2, MADV.MADV_COLLAPSE)).toBe(-EINVAL);
  });
});

describe("THP split (mm/huge_memory.c: can_split_folio(), deferred split)", () => {
  it("a partially unmapped THP is split by the deferred-split shrinker and the unmapped half freed", () => {
    const m = new Machine({ thp: "always" });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    m.memset(A, buf, 7, M2);
    const folio = m.page(m.translate(A, buf)).folio;
    expect(m.madvise(A, buf + M2 / 2, M2 / 2, MADV.MADV_DONTNEED)).toBe(0);
    const free0 = freePages(m);
    expect(m.k.deferredSplit.has(folio)).toBe(true);
    expect(deferred_split_scan(m.k)).toBe(1);
    expect(freePages(m)).toBe(free0 + 256);
    expect(m.page(m.translate(A, buf)).order).toBe(0);
    expect(m.load(A, buf + 4096)).toBe(7);
  });
  it("a pinned THP cannot be split: the unmapped half stays allocated (P6)", () => {
    const m = new Machine({ thp: "always" });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    m.memset(A, buf, 7, M2);
    const folio = m.page(m.translate(A, buf)).folio;
    folio_add_pincount(m.k, folio, 1);
    folio_ref_add(m.k, folio, 1);
    m.madvise(A, buf + M2 / 2, M2 / 2, MADV.MADV_DONTNEED);
    const free0 = freePages(m);
    expect(deferred_split_scan(m.k)).toBe(0);
    expect(split_folio(m.k, folio)).toBe(-EAGAIN);
    expect(freePages(m)).toBe(free0);
    expect(m.k.vmstat.thp_split_page_failed).toBeGreaterThan(0);
  });
});
