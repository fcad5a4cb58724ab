/** The buddy allocator, zones, pageblocks and CMA (mm/page_alloc.c, mm/mm_init.c). */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/kernel/machine.js";
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, __GFP_THISNODE } from "../../src/kernel/include/gfp.js";
import { MIGRATE, ZONE } from "../../src/kernel/include/mmzone.js";
import { NIL } from "../../src/kernel/mm/memmap.js";
import { PinlabError } from "../../src/kernel/errors.js";

const G = 1024 ** 3;
const M = 1024 ** 2;

describe("NUMA nodes (struct pglist_data, free_area_init())", () => {
  it("8G on 2 nodes: node 0 holds DMA32, node 1 Normal; each zone is its range clipped to the node", () => {
    const m = new Machine({ memory: 8 * G, nodes: 2 });
    const [n0, n1] = m.k.pa.nodes;
    expect([n0.node_start_pfn, n0.node_end_pfn, n1.node_start_pfn, n1.node_end_pfn]).toEqual(
      [0, 4 * G, 4 * G, 8 * G].map((b) => b / 4096),
    );
    expect(n0.node_zones[ZONE.DMA32].managedPages).toBe((4 * G - 4 * M) / 4096); // less the reserved 4M
    expect(n0.node_zones[ZONE.NORMAL].spannedPages).toBe(0);
    expect(n1.node_zones[ZONE.DMA32].spannedPages).toBe(0);
    expect(n1.node_zones[ZONE.NORMAL].managedPages).toBe((4 * G) / 4096);
    expect(m.k.pa.zones[ZONE.DMA32]).toBe(n0.node_zones[ZONE.DMA32]); // node 0's zones where they were
    expect(m.k.pa.page_to_nid((4 * G) / 4096 - 1)).toBe(0);
    expect(m.k.pa.page_to_nid((4 * G) / 4096)).toBe(1);
  });
  it("an allocation prefers the given node; __GFP_THISNODE never leaves it; a CMA area may span nodes", () => {
    const m = new Machine({ memory: 512 * M, nodes: 2, cma: 32 * M });
    const p = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0, 0, 1);
    expect(m.k.pa.page_to_nid(p)).toBe(1);
    const got: number[] = [];
    for (;;) {
      const q = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_THISNODE, 9, 0, 0);
      if (q === NIL) break;
      got.push(q);
    }
    expect(got.every((q) => m.k.pa.page_to_nid(q) === 0)).toBe(true);
    expect(m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 9, 0, 0)).not.toBe(NIL); // falls back to node 1
  });
});

describe("zones (movablecore=, ZONE_DMA32 below 4 GiB)", () => {
  it("8G: DMA32 up to 4G, Normal above, no Movable", () => {
    const m = new Machine({ memory: 8 * G });
    const z = m.k.pa.zones;
    expect(z[ZONE.DMA32].endPfn).toBe((4 * G) / 4096);
    expect(z[ZONE.NORMAL].startPfn).toBe((4 * G) / 4096);
    expect(z[ZONE.MOVABLE].spannedPages).toBe(0);
  });
  it("movable=2G takes the top of memory as ZONE_MOVABLE", () => {
    const m = new Machine({ memory: 8 * G, movable: 2 * G });
    expect(m.k.pa.zones[ZONE.MOVABLE].startPfn).toBe((6 * G) / 4096);
    expect(m.k.pa.zones[ZONE.MOVABLE].managedPages).toBe((2 * G) / 4096);
  });
  it("kernel allocations (GFP_KERNEL) never come from ZONE_MOVABLE, even when it is all that is free", () => {
    const m = new Machine({ memory: 128 * M, movable: 64 * M });
    const got: number[] = [];
    for (;;) {
      const p = m.k.pa.alloc_pages(GFP_KERNEL, 0);
      if (p === NIL) break;
      got.push(p);
    }
    expect(got.length).toBeGreaterThan(0);
    for (const p of got) expect(m.k.pa.zoneIdOf(p)).not.toBe(ZONE.MOVABLE);
    expect(m.k.pa.zones[ZONE.MOVABLE].freePages).toBe((64 * M) / 4096);
    // while movable user allocations still succeed there
    const u = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    expect(m.k.pa.zoneIdOf(u)).toBe(ZONE.MOVABLE);
  });
});

describe("pageblock migratetypes and fallbacks (__rmqueue_claim / __rmqueue_steal)", () => {
  it("an unmovable allocation claims a whole movable pageblock and converts it", () => {
    const m = new Machine({ memory: 256 * M });
    const p = m.k.pa.alloc_pages(GFP_KERNEL, 0);
    expect(m.k.pa.get_pageblock_migratetype(p)).toBe(MIGRATE.UNMOVABLE);
    // the next unmovable page comes from the same, now unmovable, block
    const q = m.k.pa.alloc_pages(GFP_KERNEL, 0);
    expect(q >>> 9).toBe(p >>> 9);
    // while movable pages keep coming from movable blocks
    const u = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    expect(m.k.pa.get_pageblock_migratetype(u)).toBe(MIGRATE.MOVABLE);
  });
  it("freeing merges buddies back into the block they came from (__free_one_page)", () => {
    const m = new Machine({ memory: 256 * M });
    const z = m.k.pa.zones[ZONE.DMA32];
    const before = z.freePages;
    const pages = Array.from({ length: 1024 }, () => m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0));
    expect(z.freePages).toBe(before - 1024);
    for (const p of pages) m.k.pa.__free_pages(p, 0);
    expect(z.freePages).toBe(before);
    const head = pages[0];
    expect(m.k.pa.isFreeBuddy(head)).toBe(true);
    expect(m.k.memmap.order(head)).toBe(10);
  });
  it("consecutive order-0 allocations take ascending pfns from one block (expand())", () => {
    const m = new Machine({ memory: 256 * M });
    const a = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    const b = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    const c = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    expect([b - a, c - a]).toEqual([1, 2]);
  });
});

describe("CMA (cma=)", () => {
  it("the CMA area's pageblocks are MIGRATE_CMA, just below ZONE_MOVABLE", () => {
    const m = new Machine({ memory: 8 * G, movable: 2 * G, cma: 256 * M });
    const [start, end] = m.k.cmaRange!;
    expect(end).toBe((6 * G) / 4096);
    expect(end - start).toBe((256 * M) / 4096);
    expect(m.k.pa.get_pageblock_migratetype(start)).toBe(MIGRATE.CMA);
    expect(m.k.pa.get_pageblock_migratetype(start - 1)).toBe(MIGRATE.MOVABLE);
  });
  it("movable allocations use CMA once more than half the zone's free memory is CMA", () => {
    const m = new Machine({ memory: 256 * M, cma: 192 * M });
    const u = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    expect(m.k.pa.get_pageblock_migratetype(u)).toBe(MIGRATE.CMA);
  });
  it("with less than half in CMA, movable allocations prefer ordinary movable blocks", () => {
    const m = new Machine({ memory: 512 * M, cma: 64 * M });
    const u = m.k.pa.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    expect(m.k.pa.get_pageblock_migratetype(u)).toBe(MIGRATE.MOVABLE);
  });
  it("kernel allocations never take CMA pageblocks", () => {
    const m = new Machine({ memory: 128 * M, cma: 64 * M });
    let p: number;
    while ((p = m.k.pa.alloc_pages(GFP_KERNEL, 0)) !== NIL)
      expect(m.k.pa.get_pageblock_migratetype(p)).not.toBe(MIGRATE.CMA);
    const z = m.k.pa.zones[ZONE.DMA32];
    expect(z.freeCmaPages).toBe((64 * M) / 4096);
  });
});

describe("hugetlb pools (htlb_alloc_mask())", () => {
  it("2M pool pages are movable allocations and may sit in ZONE_MOVABLE; 1G pages never do", () => {
    const m = new Machine({ memory: 8 * G, movable: 4 * G, hugetlb2M: 4, hugetlb1G: 1 });
    const h2 = m.k.hstates[0];
    const h1 = m.k.hstates[1];
    expect(h2.freeHugePages).toBe(4);
    expect(h1.freeHugePages).toBe(1);
    for (const p of h2.freeList) expect(m.k.pa.zoneIdOf(p)).toBe(ZONE.MOVABLE);
    expect(m.k.pa.zoneIdOf(h1.freeList[0])).not.toBe(ZONE.MOVABLE);
    expect(h1.freeList[0] % (1 << 18)).toBe(0);
  });
});

describe("boot", () => {
  it("a 1 TiB machine boots with memory only for what it touches", () => {
    const m = new Machine({ memory: 1024 * G });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 64 * M, 3, 0x22, -1, 0);
    m.memset(A, buf, 1, 64 * M);
    expect(m.metadataBytes()).toBeLessThan(64 * 1024 * 32);
  });
  it("bad sizes are refused with a message that says what to fix", () => {
    expect(() => new Machine({ memory: 3 * M })).toThrow(PinlabError);
    expect(() => new Machine({ memory: 4 * G + 4096 })).toThrow(/multiple of 2M/);
    expect(() => new Machine({ memory: 1 * G, movable: 1 * G })).toThrow(/lower them/);
    expect(() => new Machine({ memory: 1 * G, cma: 3 * M })).toThrow(/cma must be a multiple of 2M/);
  });
});
