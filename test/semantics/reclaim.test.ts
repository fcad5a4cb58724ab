/** P7 and gup-semantics.md §3.6: reclaim never frees a pinned folio, but may unmap a pinned page-cache folio. */
import { describe, expect, it } from "vitest";
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MADV, MAP_SHARED, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE } from "../../src/kernel/include/mman.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import { Machine } from "../../src/kernel/machine.js";

const K4 = 4096;

function fileMap(kind: "ext4" | "tmpfs") {
  const m = new Machine();
  const A = m.spawn("A");
  m.mount(kind, "/d");
  const fd = m.open(A, "/d/f", O_RDWR | O_CREAT);
  m.ftruncate(A, fd, 2 * K4);
  const p = m.mmap(A, 0, 2 * K4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  m.store(A, p, 1);
  m.store(A, p + K4, 2);
  return { m, A, fd, p };
}

describe("shrink_folio_list() with pins", () => {
  it("ext4: MADV_PAGEOUT frees an unpinned page-cache folio but only unmaps the pinned one, buffers kept", () => {
    const { m, A, p } = fileMap("ext4");
    const pinned = m.translate(A, p);
    const other = m.translate(A, p + K4);
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, p, 1, FOLL_LONGTERM);
    expect(m.madvise(A, p, 2 * K4, MADV.MADV_PAGEOUT)).toBe(0);
    expect(m.translate(A, p)).toBeLessThan(0); // unmapped…
    expect(m.translate(A, p + K4)).toBeLessThan(0);
    expect(m.page(pinned).refcount).toBeGreaterThan(0); // …but kept
    expect(m.k.memmap.test(pinned, PG.private)).toBe(true); // buffers not stripped
    expect(m.load(A, p)).toBe(1);
    expect(m.translate(A, p)).toBe(pinned); // the same folio faults back in
    expect(m.load(A, p + K4)).toBe(2); // written out before being freed
    void other;
    m.unpin(pin!);
  });
  it("shmem without swap: both pinned and unpinned pages are unmapped and keep their pfns", () => {
    const { m, A, p } = fileMap("tmpfs");
    const a = m.translate(A, p);
    const b = m.translate(A, p + K4);
    m.gup("io_uring", "pin_user_pages_fast", A, A, p, 1, FOLL_WRITE | FOLL_LONGTERM);
    m.madvise(A, p, 2 * K4, MADV.MADV_PAGEOUT);
    expect(m.translate(A, p)).toBeLessThan(0);
    expect(m.translate(A, p + K4)).toBeLessThan(0);
    m.load(A, p);
    m.load(A, p + K4);
    expect([m.translate(A, p), m.translate(A, p + K4)]).toEqual([a, b]);
  });
  it("kernel reclaim keeps a maybe-pinned anon folio (no swap slot is even allocated)", () => {
    const m = new Machine();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, K4, PROT_READ | PROT_WRITE, 0x22, -1, 0);
    m.store(A, buf, 3);
    const { pin } = m.gup("rdma", "pin_user_pages_fast", A, A, buf, 1, FOLL_WRITE | FOLL_LONGTERM);
    const r = m.reclaim();
    expect(r.keptPinned).toContain(pin!.pages[0]);
    expect(m.translate(A, buf)).toBe(pin!.pages[0]);
  });
});
