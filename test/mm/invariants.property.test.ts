/**
 * Property: any sequence of memory syscalls keeps the model's invariants
 * (src/kernel/invariants.ts) after every step, and never throws. Each
 * failure prints its seed and a shrunk sequence (fast-check).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check_invariants } from "../../src/kernel/invariants.js";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MREMAP,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";

const PAGE = 4096;
type Op =
  | { op: "mmap"; pages: number; huge: boolean; thp: boolean }
  | {
      op: "munmap" | "dontneed" | "mprotect_ro" | "mprotect_rw" | "mlock";
      region: number;
      first: number;
      pages: number;
    }
  | { op: "store" | "load"; region: number; page: number; value: number }
  | { op: "fork" | "exit" | "switch"; proc: number }
  | { op: "mremap"; region: number; grow: number }
  | { op: "dontfork"; region: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("mmap" as const),
    pages: fc.integer({ min: 1, max: 1100 }),
    huge: fc.boolean(),
    thp: fc.boolean(),
  }),
  fc.record({
    op: fc.constantFrom(
      "munmap" as const,
      "dontneed" as const,
      "mprotect_ro" as const,
      "mprotect_rw" as const,
      "mlock" as const,
    ),
    region: fc.nat(8),
    first: fc.nat(600),
    pages: fc.integer({ min: 1, max: 600 }),
  }),
  fc.record({
    op: fc.constantFrom("store" as const, "load" as const),
    region: fc.nat(8),
    page: fc.nat(1100),
    value: fc.nat(255),
  }),
  fc.record({ op: fc.constantFrom("fork" as const, "exit" as const, "switch" as const), proc: fc.nat(4) }),
  fc.record({
    op: fc.constant("mremap" as const),
    region: fc.nat(8),
    grow: fc.integer({ min: -4, max: 600 }),
  }),
  fc.record({ op: fc.constant("dontfork" as const), region: fc.nat(8) }),
);

function run(ops: Op[]): void {
  const m = new Machine({ memory: 512 * 1024 * 1024, thp: "madvise", hugetlb2M: 2 });
  const procs = [m.spawn("P0")];
  let cur = 0;
  const regions: { addr: number; len: number }[] = [];
  for (const o of ops) {
    const pid = procs[cur % procs.length];
    const alive = m.task(pid).state === "running";
    const region = "region" in o ? regions[o.region % Math.max(1, regions.length)] : undefined;
    if (!alive && o.op !== "switch") continue;
    switch (o.op) {
      case "mmap": {
        const len = o.huge ? 2 * 1024 * 1024 : o.pages * PAGE;
        const a = m.mmap(
          pid,
          0,
          len,
          PROT_READ | PROT_WRITE,
          MAP_PRIVATE | MAP_ANONYMOUS | (o.huge ? MAP_HUGETLB : 0),
          -1,
          0,
        );
        if (a > 0) {
          regions.push({ addr: a, len });
          if (o.thp) m.madvise(pid, a, len, MADV.MADV_HUGEPAGE);
        }
        break;
      }
      case "munmap":
      case "dontneed":
      case "mprotect_ro":
      case "mprotect_rw":
      case "mlock":
        if (!region) break;
        {
          const a = region.addr + o.first * PAGE;
          const len = o.pages * PAGE;
          if (o.op === "munmap") m.munmap(pid, a, len);
          else if (o.op === "dontneed") m.madvise(pid, a, len, MADV.MADV_DONTNEED);
          else if (o.op === "mlock") m.mlock(pid, a, len);
          else m.mprotect(pid, a, len, o.op === "mprotect_ro" ? PROT_READ : PROT_READ | PROT_WRITE);
        }
        break;
      case "store":
        if (region) m.store(pid, region.addr + ((o.page * PAGE) % region.len), o.value);
        break;
      case "load":
        if (region) m.load(pid, region.addr + ((o.page * PAGE) % region.len));
        break;
      case "fork": {
        if (procs.length < 6) {
          const c = m.fork(pid);
          if (c > 0) procs.push(c);
        }
        break;
      }
      case "exit":
        if (procs.length > 1) m.exit(pid);
        break;
      case "switch":
        cur = o.proc;
        break;
      case "mremap":
        if (region) {
          const r = m.mremap(
            pid,
            region.addr,
            region.len,
            Math.max(PAGE, region.len + o.grow * PAGE),
            MREMAP.MREMAP_MAYMOVE,
          );
          if (r > 0) {
            region.addr = r;
            region.len = Math.max(PAGE, region.len + o.grow * PAGE);
          }
        }
        break;
      case "dontfork":
        if (region) m.madvise(pid, region.addr, region.len, MADV.MADV_DONTFORK);
        break;
    }
    const errs = check_invariants(m.k);
    if (errs.length) throw new Error(`after ${JSON.stringify(o)}: ${errs.slice(0, 3).join("; ")}`);
    expect(m.k.oops).toBeNull();
  }
  // when every process exits, every page it used is free again
  for (const p of procs) if (m.task(p).state === "running") m.exit(p);
  const free = m.k.pa.zones.reduce((s, z) => s + (z ? z.freePages : 0), 0);
  const managed = m.k.pa.zones.reduce((s, z) => s + (z ? z.managedPages : 0), 0);
  const pool = m.k.hstates.reduce((s, h) => s + h.nrHugePages * (1 << h.order), 0);
  const hugeZero = m.k.hugeZeroPfn >= 0 && m.k.hugeZeroPfn !== 0xffffffff ? 512 : 0;
  expect(free + pool + hugeZero).toBe(managed);
}

describe("invariants hold after every memory syscall (property)", () => {
  it("random syscall sequences: refcount ≥ mapcount, mapped folios allocated, free lists clean, all freed at exit", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => run(ops)),
      {
        numRuns: 1500,
        examples: [
          // a VMA split inside a PMD-mapped THP once leaked the THP (vma_adjust_trans_huge() was missing)
          [
            [
              { op: "mmap", pages: 512, huge: false, thp: true },
              { op: "store", region: 0, page: 0, value: 0 },
              { op: "mlock", region: 0, first: 0, pages: 1 },
              { op: "fork", proc: 0 },
              { op: "mremap", region: 0, grow: 0 },
            ],
          ],
          [
            [
              { op: "mmap", pages: 1, huge: false, thp: true },
              { op: "mremap", region: 0, grow: 512 },
              { op: "store", region: 0, page: 1, value: 0 },
              { op: "mprotect_rw", region: 0, first: 0, pages: 2 },
              { op: "fork", proc: 0 },
              { op: "store", region: 0, page: 0, value: 0 },
            ],
          ],
        ],
      },
    );
  });
});
