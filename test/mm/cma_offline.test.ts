/**
 * CMA allocation and memory offlining versus pinned pages
 * (gup-semantics.md §3.2, §3.3; P6). Pins are simulated by their references.
 */
import { describe, expect, it } from "vitest";
import { EBUSY, EINTR } from "../../src/kernel/include/errno.js";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";
import { cma_alloc, cma_release, default_cma } from "../../src/kernel/mm/cma.js";
import { folio_ref_add, GUP_PIN_COUNTING_BIAS } from "../../src/kernel/mm/folio.js";
import { offline_pages } from "../../src/kernel/mm/memory_hotplug.js";
import { migrate_folio_out } from "../../src/kernel/mm/migrate.js";
import { NIL } from "../../src/kernel/mm/memmap.js";

const M = 1024 * 1024;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** A machine whose user memory lands in CMA (CMA is over half of the free memory). */
function cmaMachine() {
  const m = new Machine({ memory: 256 * M, cma: 192 * M });
  const A = m.spawn("A");
  const buf = m.mmap(A, 0, 8 * 4096, RW, ANON, -1, 0);
  m.memset(A, buf, 0x77, 8 * 4096);
  return { m, A, buf };
}

describe("cma_alloc (mm/cma.c) over user pages", () => {
  it("migrates unpinned user pages out of the way and succeeds; contents are preserved", () => {
    const { m, A, buf } = cmaMachine();
    const before = m.translate(A, buf);
    const cma = default_cma(m.k)!;
    expect(before).toBeGreaterThanOrEqual(cma.base);
    const r = cma_alloc(m.k, 64 * 256, 0, migrate_folio_out);
    expect(r.ret).toBe(0);
    expect(r.pfn).toBe(cma.base);
    expect(m.translate(A, buf)).not.toBe(before);
    expect(m.load(A, buf)).toBe(0x77);
    expect(cma_release(m.k, r.pfn, 64 * 256)).toBe(true);
  });
  it("a pinned page in the only candidate range makes it fail with -EBUSY, naming the blocker", () => {
    const { m, A, buf } = cmaMachine();
    const pinned = m.translate(A, buf);
    folio_ref_add(m.k, pinned, GUP_PIN_COUNTING_BIAS);
    const cma = default_cma(m.k)!;
    const r = cma_alloc(m.k, cma.count, 0, migrate_folio_out);
    expect(r.ret).toBe(-EBUSY);
    expect(r.pfn).toBe(NIL);
    expect(r.blockers).toContain(pinned);
    expect(cma.alloc_pages_fail).toBe(cma.count);
    // the user page is still there, still mapped, content intact
    expect(m.translate(A, buf)).toBe(pinned);
    expect(m.load(A, buf)).toBe(0x77);
  });
  it("on -EBUSY it tries the next candidate range and succeeds there", () => {
    const { m, A, buf } = cmaMachine();
    const pinned = m.translate(A, buf);
    folio_ref_add(m.k, pinned, GUP_PIN_COUNTING_BIAS);
    const cma = default_cma(m.k)!;
    const r = cma_alloc(m.k, 512, 9, migrate_folio_out);
    expect(r.ret).toBe(0);
    expect(r.blockers).toEqual([pinned]);
    expect(r.pfn).toBeGreaterThan(pinned);
    void cma;
  });
  it("a pin released before the allocation does not block it", () => {
    const { m, A, buf } = cmaMachine();
    const pinned = m.translate(A, buf);
    folio_ref_add(m.k, pinned, GUP_PIN_COUNTING_BIAS);
    folio_ref_add(m.k, pinned, -GUP_PIN_COUNTING_BIAS);
    const cma = default_cma(m.k)!;
    expect(cma_alloc(m.k, cma.count, 0, migrate_folio_out).ret).toBe(0);
  });
});

describe("offline_pages (mm/memory_hotplug.c)", () => {
  it("offlining a movable block migrates user pages away and removes the memory", () => {
    const m = new Machine({ memory: 1024 * M, movable: 256 * M });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 5);
    const pfn = m.translate(A, buf);
    const block = pfn - (pfn % 32768);
    const r = offline_pages(m.k, block, 32768, 100, migrate_folio_out);
    expect(r.ret).toBe(0);
    expect(m.translate(A, buf)).not.toBe(pfn);
    expect(m.load(A, buf)).toBe(5);
  });
  it("a pinned page in the block: the kernel would retry forever; the model reports it after its budget (-EINTR)", () => {
    const m = new Machine({ memory: 1024 * M, movable: 256 * M });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, RW, ANON, -1, 0);
    m.store(A, buf, 5);
    const pfn = m.translate(A, buf);
    folio_ref_add(m.k, pfn, GUP_PIN_COUNTING_BIAS);
    const block = pfn - (pfn % 32768);
    const r = offline_pages(m.k, block, 32768, 50, migrate_folio_out);
    expect(r.ret).toBe(-EINTR);
    expect(r.wouldLoopForever).toBe(true);
    expect(r.passes).toBe(50);
    expect(r.stuck).toEqual([pfn]);
    // isolation was undone: the zone allocates from the block again
    expect(m.k.pa.get_pageblock_migratetype(block)).toBe(1);
  });
});
