/**
 * gup-semantics.md §3.1 (move_pages(2), rule P6) on a machine with two NUMA
 * nodes: mm/migrate.c kernel_move_pages(), do_pages_move(),
 * add_folio_for_migration(), move_pages_and_store_status(), do_pages_stat().
 * Each status array starts as MOVE_PAGES_STATUS_UNSET (INT_MIN), so an
 * entry the kernel did not write shows.
 */
import { describe, expect, it } from "vitest";
import {
  EACCES,
  EBUSY,
  EFAULT,
  EINVAL,
  ENODEV,
  ENOENT,
  ENOMEM,
  EPERM,
} from "../../src/kernel/include/errno.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, MPOL_MF_STRICT } from "../../src/kernel/include/mempolicy.js";
import {
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { CAP_SYS_PTRACE } from "../../src/kernel/kernel/task.js";
import { check_invariants } from "../../src/kernel/invariants.js";
import { Machine } from "../../src/kernel/machine.js";
import { MOVE_PAGES_STATUS_UNSET as UNSET } from "../../src/kernel/mm/move_pages.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const K4 = 4096;

/** A 2-node machine (node 0: [0, 2G), node 1: [2G, 4G)) and a process on node 0. */
function twoNodes(): { m: Machine; A: number } {
  const m = new Machine({ memory: 4 * 1024 ** 3, nodes: 2 });
  return { m, A: m.spawn("A") };
}

/** n anonymous pages holding 0x100 + i, faulted in on the process's node. */
function anonPages(m: Machine, pid: number, n: number): number {
  const a = m.mmap(pid, 0, n * K4, RW, ANON, -1, 0);
  for (let i = 0; i < n; i++) expect(m.store(pid, a + i * K4, 0x100 + i)).toBe(0);
  return a;
}

/** move_pages(pid, n, pages, nodes, status, flags) with a fresh INT_MIN-filled status. */
function movePages(
  m: Machine,
  caller: number,
  target: number,
  pages: number[],
  nodes: number[] | null,
  flags = MPOL_MF_MOVE,
): { ret: number; status: number[] } {
  const status = new Int32Array(pages.length).fill(UNSET);
  const ret = m.sys_move_pages(caller, target, pages, nodes, status, flags);
  return { ret, status: Array.from(status) };
}

const nodeOf = (m: Machine, pid: number, addr: number) => m.page(m.translate(pid, addr)).node;

describe("NUMA nodes: allocation on the task's node, fallback along the zonelist", () => {
  it("a process on node 1 faults its pages in on node 1; a child inherits the node", () => {
    const m = new Machine({ nodes: 2 });
    const B = m.spawn("B", { node: 1 });
    const buf = anonPages(m, B, 2);
    expect(nodeOf(m, B, buf)).toBe(1);
    const C = m.fork(B);
    expect(m.store(C, buf, 7)).toBe(0); // COW copy for the child
    expect(nodeOf(m, C, buf)).toBe(1);
  });
  it("a node that runs out falls back to the next node (build_zonelists())", () => {
    const m = new Machine({ memory: 128 * 1024 ** 2, nodes: 2 });
    const A = m.spawn("A");
    const len = 64 * 1024 ** 2; // more than node 0 has left after the reserved 4M
    const buf = m.mmap(A, 0, len, RW, ANON, -1, 0);
    expect(m.memset(A, buf, 1, len)).toBe(0);
    expect(nodeOf(m, A, buf)).toBe(0);
    expect(nodeOf(m, A, buf + len - K4)).toBe(1);
    expect(check_invariants(m.k)).toEqual([]);
  });
  it("nodes=1 is the default and page_to_nid() is 0 everywhere", () => {
    const m = new Machine();
    const A = m.spawn("A");
    expect(nodeOf(m, A, anonPages(m, A, 1))).toBe(0);
    expect(m.k.pa.nodes.length).toBe(1);
  });
  it("bad node settings are rejected naming the fix", () => {
    expect(() => new Machine({ nodes: 0 })).toThrow(/nodes=0 must be a whole number from 1 to 64/);
    expect(() => new Machine({ memory: 64 * 1024 ** 2, nodes: 4 })).toThrow(/lower nodes or raise memory/);
    expect(() => new Machine({ nodes: 2, movable: 1024 ** 3 })).toThrow(/drop movable= or use nodes=1/);
    expect(() => new Machine({ nodes: 2 }).spawn("X", { node: 2 })).toThrow(/0 … 1/);
  });
});

describe("gup-semantics.md §3.1: move_pages(2) per-page status", () => {
  it("an unpinned anon page moves to node 1: status 1, return 0, content kept", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 1);
    const old = m.translate(A, buf);
    expect(movePages(m, A, A, [buf], [1])).toEqual({ ret: 0, status: [1] });
    expect(m.translate(A, buf)).not.toBe(old);
    expect(nodeOf(m, A, buf)).toBe(1);
    expect(m.load(A, buf)).toBe(0x100);
    expect(check_invariants(m.k)).toEqual([]);
  });

  it("a page already on the target node: status = that node, nothing migrates", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 1);
    const pfn = m.translate(A, buf);
    expect(movePages(m, A, A, [buf], [0])).toEqual({ ret: 0, status: [0] });
    expect(m.translate(A, buf)).toBe(pfn);
  });

  it("P6: a longterm-pinned page is queued but not migrated: return 1, its status unwritten", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 1);
    const { ret, pin } = m.gup("vfio", "pin_user_pages_remote", A, A, buf, 1, FOLL_WRITE | FOLL_LONGTERM);
    expect(ret).toBe(1);
    const pfn = m.translate(A, buf);
    // migrate_pages() counts the folio as not migrated; move_pages_and_store_status()
    // returns 1 + (nr_pages - i) with i = nr_pages and stores no status for the batch
    expect(movePages(m, A, A, [buf], [1])).toEqual({ ret: 1, status: [UNSET] });
    expect(m.translate(A, buf)).toBe(pfn);
    expect(nodeOf(m, A, buf)).toBe(0);
    expect(m.page(pfn).maybeDmaPinned).toBe(true);
    // the pin still refers to the mapped page: device and CPU stay coherent
    expect(pin!.pages[0]).toBe(pfn);
    m.dma_write(pin!, 0xd0);
    expect(m.load(A, buf)).toBe(0xd0);
    expect(m.store(A, buf, 0xc0)).toBe(0);
    expect(m.dma_read(pin!)).toBe(0xc0);
    expect(check_invariants(m.k)).toEqual([]);
    // after unpin the same call succeeds
    m.unpin(pin!);
    expect(movePages(m, A, A, [buf], [1])).toEqual({ ret: 0, status: [1] });
    expect(nodeOf(m, A, buf)).toBe(1);
    expect(m.load(A, buf)).toBe(0xc0);
  });

  it("P6: a pinned page fails its whole batch: pages that moved with it get no status either", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 3);
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, buf + K4, 1, FOLL_WRITE);
    const r = movePages(m, A, A, [buf, buf + K4, buf + 2 * K4], [1, 1, 1]);
    // one folio not migrated; the batch [0, 3) keeps the caller's values
    expect(r).toEqual({ ret: 1, status: [UNSET, UNSET, UNSET] });
    expect([0, 1, 2].map((i) => nodeOf(m, A, buf + i * K4))).toEqual([1, 0, 1]);
    m.unpin(pin!);
  });

  it("P6: a failed batch ends the call; the count includes the pages not attempted", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 3);
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, buf, 1, FOLL_WRITE);
    // page 0 (pinned) is queued for node 1; the switch to node 0 at i = 1 flushes the
    // batch: 1 failed + (3 - 1) not attempted
    const r = movePages(m, A, A, [buf, buf + K4, buf + 2 * K4], [1, 0, 1]);
    expect(r).toEqual({ ret: 3, status: [UNSET, UNSET, UNSET] });
    expect(nodeOf(m, A, buf + 2 * K4)).toBe(0);
    // a page that is not queued ends a batch too, and its own status is written first:
    // 1 failed + (2 - 1) not attempted - 1 (page 1 has its status) = 1
    const r2 = movePages(m, A, A, [buf, buf + 64 * 1024 ** 2], [1, 1]);
    expect(r2).toEqual({ ret: 1, status: [UNSET, -EFAULT] });
    m.unpin(pin!);
  });

  it("batches before a failure keep their status; per-page errors do not stop the call", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 2);
    const hole = m.mmap(A, 0, K4, RW, ANON, -1, 0); // never touched
    const r = movePages(m, A, A, [buf, hole, buf + K4], [1, 1, 1]);
    expect(r).toEqual({ ret: 0, status: [1, -ENOENT, 1] });
  });

  it("nodes == NULL: do_pages_stat() reports each page's node, -ENOENT or -EFAULT", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 2);
    const zero = m.mmap(A, 0, K4, PROT_READ, ANON, -1, 0);
    expect(m.load(A, zero)).toBe(0); // maps the shared zero page
    const hole = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(movePages(m, A, A, [buf + K4], [1]).ret).toBe(0);
    const r = movePages(m, A, A, [buf, buf + K4, hole, zero, 0x1000], null, 0);
    expect(r).toEqual({ ret: 0, status: [0, 1, -ENOENT, -EFAULT, -EFAULT] });
  });

  it("-ENOENT for an unpopulated page, -EFAULT for the zero page and for no VMA", () => {
    const { m, A } = twoNodes();
    const hole = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    const zero = m.mmap(A, 0, K4, PROT_READ, ANON, -1, 0);
    m.load(A, zero);
    expect(m.page(m.translate(A, zero)).zeroPage).toBe(true);
    // the zero page is -EFAULT even when it lies on the target node (checked first)
    expect(movePages(m, A, A, [hole, zero, zero, 0x1000], [1, 1, 0, 1])).toEqual({
      ret: 0,
      status: [-ENOENT, -EFAULT, -EFAULT, -EFAULT],
    });
  });

  it("-EACCES for a page shared after fork without MPOL_MF_MOVE_ALL; MOVE_ALL moves it", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 1);
    const B = m.fork(A);
    expect(movePages(m, A, A, [buf], [1])).toEqual({ ret: 0, status: [-EACCES] });
    // a shared page already on the target node is reported there, not refused
    expect(movePages(m, A, A, [buf], [0])).toEqual({ ret: 0, status: [0] });
    expect(movePages(m, A, A, [buf], [1], MPOL_MF_MOVE_ALL)).toEqual({ ret: 0, status: [1] });
    expect(nodeOf(m, A, buf)).toBe(1);
    expect(m.translate(B, buf)).toBe(m.translate(A, buf)); // both mappings moved
    expect(m.load(B, buf)).toBe(0x100);
  });

  it("bad nodes are -ENODEV and end the call; pages before them are still moved", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 2);
    expect(movePages(m, A, A, [buf, buf + K4], [1, 2])).toEqual({ ret: -ENODEV, status: [1, UNSET] });
    expect(movePages(m, A, A, [buf], [-1]).ret).toBe(-ENODEV);
    expect(movePages(m, A, A, [buf], [64]).ret).toBe(-ENODEV);
  });

  it("flags and permissions: -EINVAL, -EPERM without CAP_SYS_NICE or ptrace access", () => {
    const { m, A } = twoNodes();
    const buf = anonPages(m, A, 1);
    expect(movePages(m, A, A, [buf], [1], MPOL_MF_STRICT).ret).toBe(-EINVAL);
    const U = m.spawn("U", { uid: 1000, caps: [] });
    expect(movePages(m, U, A, [buf], [1], MPOL_MF_MOVE_ALL).ret).toBe(-EPERM);
    expect(movePages(m, U, A, [buf], [1]).ret).toBe(-EPERM);
    const T = m.spawn("T", { uid: 1000, caps: [CAP_SYS_PTRACE] });
    expect(movePages(m, T, A, [buf], [1])).toEqual({ ret: 0, status: [1] });
  });

  it("-ENOMEM when the target node has no room (__GFP_THISNODE: no fallback)", () => {
    const m = new Machine({ memory: 128 * 1024 ** 2, nodes: 2 });
    const A = m.spawn("A");
    const B = m.spawn("B", { node: 1 });
    const fill = m.mmap(B, 0, 64 * 1024 ** 2, RW, ANON, -1, 0);
    m.memset(B, fill, 1, 64 * 1024 ** 2); // node 1 full (the rest spilled to node 0)
    const buf = anonPages(m, A, 1);
    expect(nodeOf(m, A, buf)).toBe(0);
    expect(movePages(m, A, A, [buf], [1])).toEqual({ ret: -ENOMEM, status: [UNSET] });
    expect(nodeOf(m, A, buf)).toBe(0);
    expect(check_invariants(m.k)).toEqual([]);
  });

  it("a hugetlb page moves to a fresh folio on the node; the pool keeps its size", () => {
    const m = new Machine({ nodes: 2, hugetlb2M: 2 });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 2 * 1024 ** 2, RW, ANON | MAP_HUGETLB, -1, 0);
    expect(m.store(A, buf, 9)).toBe(0);
    expect(nodeOf(m, A, buf)).toBe(0); // the pool was filled from node 0
    // no free pool folio on node 1: alloc_hugetlb_folio_nodemask() allocates one there
    expect(movePages(m, A, A, [buf], [1])).toEqual({ ret: 0, status: [1] });
    expect(nodeOf(m, A, buf)).toBe(1);
    expect(m.load(A, buf)).toBe(9);
    expect(check_invariants(m.k)).toEqual([]);
    m.exit(A);
    expect(m.k.hstates[0].nrHugePages).toBe(2);
    expect(m.k.hstates[0].surplusHugePages).toBe(0);
  });

  it("a THP moves as one folio; its second address finds it on the node already", () => {
    const m = new Machine({ nodes: 2, thp: "always" });
    const A = m.spawn("A");
    const len = 2 * 1024 ** 2;
    const raw = m.mmap(A, 0, 2 * len, RW, ANON, -1, 0);
    const buf = Math.ceil(raw / len) * len;
    expect(m.memset(A, buf, 5, len)).toBe(0);
    expect(m.page(m.translate(A, buf)).order).toBe(9);
    // both addresses are in one folio: the second cannot be isolated again (-EBUSY)
    expect(movePages(m, A, A, [buf, buf + K4], [1, 1])).toEqual({ ret: 0, status: [1, -EBUSY] });
    expect(nodeOf(m, A, buf + len - K4)).toBe(1);
    expect(movePages(m, A, A, [buf + K4], [1])).toEqual({ ret: 0, status: [1] });
  });
});
