/**
 * PageArray (src/kernel/mm/page_array.ts): runs of consecutive pfns stand
 * for their entries. Property: after any sequence of writes — single
 * entries, runs, one-by-one stores through denseFor() that stop early — every
 * entry reads back as in a plain array given the same writes, copies agree,
 * the runs stay sorted and disjoint, and spanIn() (gup_folio_next()'s scan)
 * answers what a per-entry scan answers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MADV } from "../../src/kernel/include/mman.js";
import { pin_user_pages_fast, unpin_user_pages } from "../../src/kernel/mm/gup.js";
import { PAGE_NULL } from "../../src/kernel/mm/gup_refs.js";
import { PageArray } from "../../src/kernel/mm/page_array.js";
import { as, boot, M2, mapAnon, PAGE, pincount, pins, refcount } from "../gup/helpers.js";

const LEN = 64;

type Op =
  | { op: "page"; i: number; pfn: number }
  | { op: "run"; i: number; pfn: number; n: number }
  | { op: "dense"; i: number; n: number; stop: number; pfn: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("page" as const),
    i: fc.nat(LEN - 1),
    pfn: fc.integer({ min: -1, max: 3000 }),
  }),
  fc.record({
    op: fc.constant("run" as const),
    i: fc.nat(LEN - 1),
    pfn: fc.integer({ min: 0, max: 3000 }),
    n: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    op: fc.constant("dense" as const),
    i: fc.nat(LEN - 1),
    n: fc.integer({ min: 1, max: 40 }),
    stop: fc.nat(40),
    pfn: fc.integer({ min: 0, max: 3000 }),
  }),
);

function apply(a: PageArray, naive: number[], o: Op): void {
  if (o.op === "page") {
    a.setPage(o.i, o.pfn);
    naive[o.i] = o.pfn;
  } else if (o.op === "run") {
    const n = Math.min(o.n, LEN - o.i);
    a.setRun(o.i, o.pfn, n);
    for (let j = 0; j < n; j++) naive[o.i + j] = o.pfn + j;
  } else {
    // GUP-fast's PTE loop: claim n entries, store the first `stop` of them
    const n = Math.min(o.n, LEN - o.i);
    const d = a.denseFor(o.i, o.i + n);
    for (let j = 0; j < Math.min(o.stop, n); j++) {
      d[o.i + j] = o.pfn + 2 * j;
      naive[o.i + j] = o.pfn + 2 * j;
    }
  }
}

function naiveSpan(naive: number[], i: number, n: number, lo: number, hi: number): number {
  let j = i;
  while (j < n && naive[j] >= lo && naive[j] < hi) j++;
  return j - i;
}

describe("PageArray", () => {
  it("reads back what a plain array holds after any writes", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(LEN - 1), fc.nat(LEN), fc.nat(3100), fc.integer({ min: 1, max: 600 })), {
          maxLength: 10,
        }),
        (ops, spans) => {
          const a = new PageArray(LEN);
          const naive: number[] = new Array<number>(LEN).fill(0);
          for (const o of ops) {
            apply(a, naive, o);
            a.checkRuns();
          }
          // sequential and random-order reads
          expect(Array.from(a)).toEqual(naive);
          for (let i = LEN - 1; i >= 0; i -= 7) expect(a.get(i)).toBe(naive[i]);
          expect(Array.from(a.toInt32Array())).toEqual(naive);
          expect(Array.from(a.toInt32Array(5, 40))).toEqual(naive.slice(5, 40));
          const s = a.slice(10, 50);
          s.checkRuns();
          expect(Array.from(s)).toEqual(naive.slice(10, 50));
          for (const [i, n0, lo, w] of spans) {
            const n = Math.max(i, n0);
            expect(a.spanIn(i, n, lo, lo + w)).toBe(naiveSpan(naive, i, n, lo, lo + w));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("records a huge mapping's subpages as one run, and merges physically contiguous folios", () => {
    const a = new PageArray(2048);
    a.setRun(0, 4096, 512);
    a.setRun(512, 4608, 512); // the next folio, contiguous: one run
    a.setRun(1024, 8192, 512); // elsewhere: a second run
    expect(a.runs()).toEqual([
      [0, 4096, 1024],
      [1024, 8192, 512],
    ]);
    // gup_folio_next() stops at the folio boundary inside a merged run
    expect(a.spanIn(0, 2048, 4096, 4608)).toBe(512);
    expect(a.spanIn(512, 2048, 4096, 5120)).toBe(512);
    a.setPage(700, PAGE_NULL);
    expect(a.get(700)).toBe(PAGE_NULL);
    expect(a.get(701)).toBe(4096 + 701);
    expect(a.runs()).toEqual([
      [0, 4096, 700],
      [701, 4096 + 701, 323],
      [1024, 8192, 512],
    ]);
  });
});

describe("PageArray as GUP's page array", () => {
  it("holds what an Int32Array holds, one run per THP, and unpins per folio", () => {
    const { m, k, A } = boot({ thp: "always" });
    // 4 MiB of THP starting 1 MiB into the first folio: partial folio, two whole, partial
    const raw = mapAnon(m, A, 4 * M2);
    const buf = Math.ceil(raw / M2) * M2;
    m.madvise(A, buf, 2 * M2, MADV.MADV_HUGEPAGE);
    expect(m.memset(A, buf, 1, 2 * M2)).toBe(0);
    const start = buf + M2 / 2;
    const n = M2 / PAGE;
    const plain = new Int32Array(n);
    const runs = new PageArray(n);
    const head = k.memmap.head(m.translate(A, buf));
    const rc0 = refcount(k, head);
    const before = pins(k);
    as(m, A, () => {
      expect(pin_user_pages_fast(k, start, n, FOLL_WRITE | FOLL_LONGTERM, plain)).toBe(n);
      expect(pin_user_pages_fast(k, start, n, FOLL_WRITE | FOLL_LONGTERM, runs)).toBe(n);
    });
    expect(Array.from(runs)).toEqual(Array.from(plain));
    expect(runs.nrRuns).toBeLessThanOrEqual(2);
    expect(pincount(k, head)).toBe(2 * (n / 2));
    unpin_user_pages(k, runs, n);
    unpin_user_pages(k, plain, n);
    expect(pincount(k, head)).toBe(0);
    expect(refcount(k, head)).toBe(rc0);
    const after = pins(k);
    expect(after.acq - before.acq).toBe(2 * n);
    expect(after.rel - before.rel).toBe(2 * n);
  });
});
