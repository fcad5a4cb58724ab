/**
 * Property ([ACCT-1..7], [ZERO-1..2], [LT-2]): any sequence of pins, gets,
 * releases and forks on a mix of memory (small anon, THP, the zero page,
 * the huge zero folio, hugetlb, tmpfs) keeps every folio's refcount equal to
 * what its mappings, page cache and the outstanding holds explain — FOLL_GET
 * +1 per page, FOLL_PIN +1024 (small) or +1 and _pincount +1 (large), the
 * zero page nothing — after every step; nr_foll_pin_acquired − released is
 * the number of pins held; and once everything is released every address
 * is back to the starting counts. With ZONE_MOVABLE, long-term pins migrate
 * pages and the same holds. Failures print the seed and a shrunk sequence.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EFAULT, ENOMEM } from "../../src/kernel/include/errno.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MADV, MAP_HUGETLB, MAP_SHARED, PROT_READ } from "../../src/kernel/include/mman.js";
import { check_invariants } from "../../src/kernel/invariants.js";
import { folio_expected_ref_count, GUP_PIN_COUNTING_BIAS } from "../../src/kernel/mm/folio.js";
import {
  get_user_pages,
  get_user_pages_fast,
  get_user_pages_remote,
  pin_user_pages,
  pin_user_pages_fast,
  pin_user_pages_remote,
  pin_user_pages_unlocked,
  put_user_pages,
  unpin_user_page,
  unpin_user_pages,
  unpin_user_pages_dirty_lock,
} from "../../src/kernel/mm/gup.js";
import { PageArray } from "../../src/kernel/mm/page_array.js";
import { ANON, as, boot, M2, mapAnon, mapFile, openFile, PAGE, pincount, RW } from "./helpers.js";

type Op =
  | { op: "pin"; api: number; write: boolean; longterm: boolean; region: number; off: number; n: number }
  | { op: "get"; api: number; write: boolean; region: number; off: number; n: number }
  | { op: "release"; idx: number; how: number }
  | { op: "fork" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("pin" as const),
    api: fc.nat(3),
    write: fc.boolean(),
    longterm: fc.boolean(),
    region: fc.nat(5),
    off: fc.nat(600),
    n: fc.integer({ min: 1, max: 600 }),
  }),
  fc.record({
    op: fc.constant("get" as const),
    api: fc.nat(2),
    write: fc.boolean(),
    region: fc.nat(5),
    off: fc.nat(600),
    n: fc.integer({ min: 1, max: 600 }),
  }),
  fc.record({ op: fc.constant("release" as const), idx: fc.nat(20), how: fc.nat(2) }),
  fc.record({ op: fc.constant("fork" as const) }),
);

interface Hold {
  pin: boolean;
  pages: Int32Array | PageArray;
}

interface Region {
  start: number;
  pages: number;
}

function run(ops: Op[], movable: boolean): void {
  const env = boot({ thp: "always", hugetlb2M: 2, ...(movable ? { movable: 1024 ** 3 } : {}) });
  const { m, k, A, mm } = env;
  const small = mapAnon(m, A, 64 * PAGE);
  m.madvise(A, small, 64 * PAGE, MADV.MADV_NOHUGEPAGE);
  m.memset(A, small, 1, 64 * PAGE);
  const thp = mapAnon(m, A, M2);
  m.memset(A, thp, 2, M2);
  const zero = mapAnon(m, A, 16 * PAGE, PROT_READ);
  m.madvise(A, zero, 16 * PAGE, MADV.MADV_NOHUGEPAGE);
  for (let i = 0; i < 16; i++) m.load(A, zero + i * PAGE);
  const htlb = mapAnon(m, A, M2, RW, ANON | MAP_HUGETLB);
  m.memset(A, htlb, 3, M2);
  const shm = mapFile(m, A, openFile(m, A, "tmpfs", 16 * PAGE), 16 * PAGE, RW, MAP_SHARED);
  m.memset(A, shm, 4, 16 * PAGE);
  const hzero = mapAnon(m, A, M2);
  m.load(A, hzero);
  const regions: Region[] = [
    { start: small, pages: 64 },
    { start: thp, pages: 512 },
    { start: zero, pages: 16 },
    { start: htlb, pages: 512 },
    { start: shm, pages: 16 },
    { start: hzero, pages: 512 },
  ];
  const addrs: number[] = [];
  for (const r of regions) for (let i = 0; i < r.pages; i++) addrs.push(r.start + i * PAGE);
  const zeroBase = k.memmap.refcount(k.zeroPfn);
  const hzeroBase = k.memmap.refcount(k.hugeZeroPfn);
  /** references a folio has beyond its mappings and page cache (the zero pages' own) */
  const unexplained = (pfn: number): number => {
    const f = k.memmap.head(pfn);
    if (f === k.zeroPfn) return k.memmap.refcount(f) - zeroBase;
    if (f === k.hugeZeroPfn) return k.memmap.refcount(f) - hzeroBase;
    return k.memmap.refcount(f) - folio_expected_ref_count(k, f);
  };
  const startState = new Map<number, [number, number, number]>();
  for (const a of addrs) {
    const pfn = m.translate(A, a);
    startState.set(a, [pfn, k.memmap.refcount(k.memmap.head(pfn)), unexplained(pfn)]);
  }
  const pins0 = k.vmstat.nr_foll_pin_acquired - k.vmstat.nr_foll_pin_released;
  const holds: Hold[] = [];

  const check = (where: string): void => {
    const extra = new Map<number, [number, number]>(); // folio → [refs, pins]
    let pinsHeld = 0;
    for (const h of holds)
      for (const p of h.pages) {
        const f = k.memmap.head(p);
        const e = extra.get(f) ?? [0, 0];
        if (!h.pin) e[0] += 1;
        else if (f !== k.zeroPfn) {
          pinsHeld++;
          if (k.memmap.order(f) > 0) {
            e[0] += 1;
            e[1] += 1;
          } else e[0] += GUP_PIN_COUNTING_BIAS;
        }
        extra.set(f, e);
      }
    const folios = new Set<number>(extra.keys());
    for (const a of addrs) {
      const pfn = m.translate(A, a);
      if (pfn >= 0) folios.add(k.memmap.head(pfn));
    }
    for (const f of folios) {
      const [refs, pc] = extra.get(f) ?? [0, 0];
      const base =
        f === k.zeroPfn ? zeroBase : f === k.hugeZeroPfn ? hzeroBase : folio_expected_ref_count(k, f);
      expect([where, f, k.memmap.refcount(f)]).toEqual([where, f, base + refs]);
      expect([where, f, pincount(k, f)]).toEqual([where, f, pc]);
    }
    expect([where, k.vmstat.nr_foll_pin_acquired - k.vmstat.nr_foll_pin_released - pins0]).toEqual([
      where,
      pinsHeld,
    ]);
    expect(check_invariants(k)).toEqual([]);
  };

  const release = (h: Hold, how: number): void => {
    if (!h.pin) put_user_pages(k, h.pages, h.pages.length);
    else if (how === 0) unpin_user_pages(k, h.pages, h.pages.length);
    else if (how === 1) unpin_user_pages_dirty_lock(k, h.pages, h.pages.length, true);
    else for (const p of h.pages) unpin_user_page(k, p);
  };

  ops.forEach((o, step) => {
    const where = `step ${step} ${JSON.stringify(o)}`;
    if (o.op === "release") {
      if (holds.length) release(holds.splice(o.idx % holds.length, 1)[0], o.how);
    } else if (o.op === "fork") {
      const B = m.fork(A);
      if (B > 0) m.exit(B);
    } else {
      const r = regions[o.region];
      const off = o.off % r.pages;
      const n = Math.min(o.n, r.pages - off);
      const start = r.start + off * PAGE;
      // both page-array representations: pfns, and runs of subpages (page_array.ts)
      const pages = step % 2 ? new PageArray(n) : new Int32Array(n);
      const flags = (o.write ? FOLL_WRITE : 0) | (o.op === "pin" && o.longterm ? FOLL_LONGTERM : 0);
      const got = as(m, A, () => {
        if (o.op === "pin") {
          switch (o.api) {
            case 0:
              return pin_user_pages(k, start, n, flags, pages);
            case 1:
              return pin_user_pages_fast(k, start, n, flags, pages);
            case 2:
              return pin_user_pages_remote(k, mm, start, n, flags, pages, { value: 1 });
            default:
              return pin_user_pages_unlocked(k, start, n, flags, pages);
          }
        }
        switch (o.api) {
          case 0:
            return get_user_pages(k, start, n, flags, pages);
          case 1:
            return get_user_pages_fast(k, start, n, flags, pages);
          default:
            return get_user_pages_remote(k, mm, start, n, flags, pages);
        }
      });
      // only the read-only region refuses (writes without FOLL_FORCE: -EFAULT), and with
      // ZONE_MOVABLE a long-term pin whose migration meets another hold's reference (-ENOMEM)
      if (got === -ENOMEM && movable && o.op === "pin" && o.longterm) expect(holds.length).toBeGreaterThan(0);
      else if (got < 0) expect([where, o.region, o.write, got]).toEqual([where, 2, true, -EFAULT]);
      else {
        expect([where, got]).toEqual([where, n]);
        holds.push({ pin: o.op === "pin", pages });
      }
    }
    check(where);
  });
  while (holds.length) release(holds.pop()!, 0);
  check("end");
  // back to the starting counts: nothing unexplained anywhere; where neither fork (which
  // splits a pinned THP's PMD) nor unsharing, COW or migration changed the page, the same count
  const forked = ops.some((o) => o.op === "fork");
  for (const a of addrs) {
    const [pfn0, rc0, un0] = startState.get(a)!;
    const pfn = m.translate(A, a);
    expect([a, unexplained(pfn)]).toEqual([a, un0]);
    if (pfn === pfn0 && !forked) expect([a, k.memmap.refcount(k.memmap.head(pfn))]).toEqual([a, rc0]);
  }
  expect(k.vmstat.nr_foll_pin_acquired - k.vmstat.nr_foll_pin_released).toBe(pins0);
}

describe("refcounts stay explained by mappings and holds, and return to the start", () => {
  it("random pin/unpin/get/put/fork sequences (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => run(ops, false)),
      { numRuns: 60 },
    );
  });

  it("the same with ZONE_MOVABLE: long-term pins migrate and the accounting still balances (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), (ops) => run(ops, true)),
      { numRuns: 40 },
    );
  });
});
