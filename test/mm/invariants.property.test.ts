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
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import type { PinRecord } from "../../src/kernel/drivers/pin_table.js";
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL } from "../../src/kernel/include/mempolicy.js";
import { MOVE_PAGES_STATUS_UNSET } from "../../src/kernel/mm/move_pages.js";

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
  | { op: "dontfork"; region: number }
  | { op: "pin"; region: number; page: number; nr: number; api: number; write: boolean; longterm: boolean }
  | { op: "unpin"; which: number; dirty: boolean }
  | { op: "ksm" | "compact" | "reclaim" | "split" | "cma" }
  | { op: "collapse"; region: number }
  | { op: "move_pages"; region: number; page: number; nr: number; node: number; all: boolean };

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
  fc.record({
    op: fc.constant("pin" as const),
    region: fc.nat(8),
    page: fc.nat(1100),
    nr: fc.integer({ min: 1, max: 40 }),
    api: fc.nat(3),
    write: fc.boolean(),
    longterm: fc.boolean(),
  }),
  fc.record({ op: fc.constant("unpin" as const), which: fc.nat(20), dirty: fc.boolean() }),
  fc.record({
    op: fc.constantFrom(
      "ksm" as const,
      "compact" as const,
      "reclaim" as const,
      "split" as const,
      "cma" as const,
    ),
  }),
  fc.record({ op: fc.constant("collapse" as const), region: fc.nat(8) }),
  fc.record({
    op: fc.constant("move_pages" as const),
    region: fc.nat(8),
    page: fc.nat(1100),
    nr: fc.integer({ min: 1, max: 40 }),
    node: fc.integer({ min: -1, max: 2 }),
    all: fc.boolean(),
  }),
);

const APIS = [
  "pin_user_pages_fast",
  "pin_user_pages",
  "pin_user_pages_remote",
  "get_user_pages_fast",
] as const;

/** One-node runs have ZONE_MOVABLE; two-node runs (where movable= is not modelled) start on node 1. */
function run(ops: Op[], nodes = 1): void {
  const m = new Machine({
    memory: 512 * 1024 * 1024,
    movable: nodes === 1 ? 64 * 1024 * 1024 : 0,
    cma: 32 * 1024 * 1024,
    thp: "madvise",
    hugetlb2M: 2,
    nodes,
  });
  const procs = [m.spawn("P0", { node: nodes - 1 })];
  const pins: PinRecord[] = [];
  const acq0 = m.k.vmstat.nr_foll_pin_acquired;
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
      case "pin":
        if (region) {
          const start = region.addr + ((o.page * PAGE) % region.len);
          const nr = Math.min(o.nr, (region.addr + region.len - start) / PAGE);
          const api = APIS[o.api];
          const flags =
            (o.write ? FOLL_WRITE : 0) | (o.longterm && api !== "get_user_pages_fast" ? FOLL_LONGTERM : 0);
          const { pin } = m.gup("test", api, pid, pid, start, nr, flags);
          if (pin) pins.push(pin);
        }
        break;
      case "unpin": {
        const live = pins.filter((p) => !p.released);
        if (live.length) m.unpin(live[o.which % live.length], o.dirty);
        break;
      }
      case "ksm":
        m.ksm_scan();
        break;
      case "compact":
        m.compact();
        break;
      case "reclaim":
        m.reclaim();
        break;
      case "split":
        m.deferred_split_scan();
        break;
      case "cma": {
        const r = m.cma_alloc(1024);
        if (r.ret === 0) m.cma_release(r.pfn, 1024);
        break;
      }
      case "collapse":
        if (region) m.madvise(pid, region.addr, region.len, MADV.MADV_COLLAPSE);
        break;
      case "move_pages":
        if (region) {
          const start = region.addr + ((o.page * PAGE) % region.len);
          const nr = Math.min(o.nr, (region.addr + region.len - start) / PAGE);
          const pages = Array.from({ length: nr }, (_, i) => start + i * PAGE);
          const status = new Int32Array(nr).fill(MOVE_PAGES_STATUS_UNSET);
          const flags = o.all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
          const ret = m.sys_move_pages(
            pid,
            pid,
            pages,
            o.node < 0 ? null : pages.map(() => o.node),
            status,
            flags,
          );
          expect(ret).toBeLessThanOrEqual(nr);
          // an entry naming a node means the page is there (moved, or found there)
          pages.forEach((a, i) => {
            if (status[i] >= 0) expect(m.page(m.translate(pid, a)).node).toBe(status[i]);
          });
        }
        break;
    }
    const errs = check_invariants(m.k);
    if (errs.length) throw new Error(`after ${JSON.stringify(o)}: ${errs.slice(0, 3).join("; ")}`);
    expect(m.k.oops).toBeNull();
  }
  // once every pin is released and every process has exited, every page is free again
  for (const p of pins) if (!p.released) m.unpin(p);
  expect(m.k.vmstat.nr_foll_pin_released - acq0).toBe(m.k.vmstat.nr_foll_pin_acquired - acq0);
  for (const p of procs) if (m.task(p).state === "running") m.exit(p);
  const free = m.k.pa.zones.reduce((s, z) => s + (z ? z.freePages : 0), 0);
  const managed = m.k.pa.zones.reduce((s, z) => s + (z ? z.managedPages : 0), 0);
  const pool = m.k.hstates.reduce((s, h) => s + h.nrHugePages * (1 << h.order), 0);
  const hugeZero = m.k.hugeZeroPfn >= 0 && m.k.hugeZeroPfn !== 0xffffffff ? 512 : 0;
  expect(free + pool + hugeZero).toBe(managed);
}

describe("invariants hold after every memory syscall, with pins held (property)", () => {
  it("random syscall, pin and MM-subsystem sequences: refcount ≥ mapcount, mapped folios allocated, free lists clean, all freed at the end", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => run(ops)),
      {
        numRuns: 1000,
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
  it("the same on two NUMA nodes, with move_pages(2) between them", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => run(ops, 2)),
      { numRuns: 1000 },
    );
  });
});
