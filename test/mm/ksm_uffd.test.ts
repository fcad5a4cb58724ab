/** KSM and UFFDIO_MOVE back off from pinned pages (gup-semantics.md §3.4, §3.7; P6). */
import { describe, expect, it } from "vitest";
import { EBUSY } from "../../src/kernel/include/errno.js";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";
import { folio_ref_add, GUP_PIN_COUNTING_BIAS } from "../../src/kernel/mm/folio.js";
import { MMF_HAS_PINNED } from "../../src/kernel/mm/mm_types.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const K4 = 4096;

function threeIdentical(pinIndex: number | null) {
  const m = new Machine();
  const A = m.spawn("A");
  const buf = m.mmap(A, 0, 3 * K4, RW, ANON, -1, 0);
  m.memset(A, buf, 0xab, 3 * K4);
  m.madvise(A, buf, 3 * K4, MADV.MADV_MERGEABLE);
  let pinned = -1;
  if (pinIndex !== null) {
    pinned = m.translate(A, buf + pinIndex * K4);
    folio_ref_add(m.k, pinned, GUP_PIN_COUNTING_BIAS);
    m.task(A).mm!.flags |= MMF_HAS_PINNED;
  }
  return { m, A, buf, pinned };
}

describe("KSM (mm/ksm.c)", () => {
  it("identical pages merge into one read-only KSM page after two scans (checksum must be stable)", () => {
    const { m, A, buf } = threeIdentical(null);
    expect(m.ksm_scan()).toBe(0); // first visit only records checksums
    expect(m.ksm_scan()).toBe(3);
    const p0 = m.translate(A, buf);
    expect(m.translate(A, buf + K4)).toBe(p0);
    expect(m.translate(A, buf + 2 * K4)).toBe(p0);
    expect(m.writable(A, buf)).toBe(false);
    // a write breaks COW on the KSM page
    m.store(A, buf, 1);
    expect(m.translate(A, buf)).not.toBe(p0);
    expect(m.load(A, buf + K4)).toBe(0xab);
  });
  it("a pinned page is never merged; scanned last, its neighbours still merge", () => {
    const { m, A, buf, pinned } = threeIdentical(2);
    m.ksm_scan();
    m.ksm_scan();
    expect(m.translate(A, buf + 2 * K4)).toBe(pinned);
    expect(m.translate(A, buf)).toBe(m.translate(A, buf + K4));
  });
  it("scanned first, a pinned page in the unstable tree keeps every identical page from merging", () => {
    const { m, A, buf, pinned } = threeIdentical(0);
    m.ksm_scan();
    expect(m.ksm_scan()).toBe(0);
    expect(m.translate(A, buf)).toBe(pinned);
    expect(m.translate(A, buf + K4)).not.toBe(m.translate(A, buf + 2 * K4));
    // after the unpin everything merges
    folio_ref_add(m.k, pinned, -GUP_PIN_COUNTING_BIAS);
    m.ksm_scan();
    expect(m.translate(A, buf)).toBe(m.translate(A, buf + K4));
  });
});

describe("UFFDIO_MOVE (mm/userfaultfd.c: move_pages_pte())", () => {
  it("moves an exclusive anon page without copying; a pinned one is -EBUSY", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const src = m.mmap(A, 0, 2 * K4, RW, ANON, -1, 0);
    const dst = m.mmap(A, 0, 2 * K4, RW, ANON, -1, 0);
    m.store(A, src, 1);
    m.store(A, src + K4, 2);
    const p0 = m.translate(A, src);
    expect(m.uffdio_move(A, dst, src, K4)).toBe(0);
    expect(m.translate(A, dst)).toBe(p0);
    expect(m.load(A, dst)).toBe(1);
    folio_ref_add(m.k, m.translate(A, src + K4), GUP_PIN_COUNTING_BIAS);
    expect(m.uffdio_move(A, dst + K4, src + K4, K4)).toBe(-EBUSY);
  });
  it("a page shared with a fork child is not exclusive: -EBUSY", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const src = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    const dst = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.store(A, src, 1);
    m.fork(A);
    expect(m.uffdio_move(A, dst, src, K4)).toBe(-EBUSY);
  });
});
