/**
 * Shared set-up for the GUP rule tests (test/gup/*.test.ts): a booted
 * Machine with the fs layer registered, mapping helpers, pin counters, and
 * hand-built VMAs for cases the syscall surface cannot make (fault handlers
 * that ask for a retry, VM_MIXEDMAP pfns).
 */
import "../../src/kernel/fs/index.js";
import { type MachineConfigInput } from "../../src/kernel/config.js";
import { do_mount, sys_ftruncate, sys_open } from "../../src/kernel/fs/index.js";
import { VM_FAULT } from "../../src/kernel/include/fault.js";
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  O_CREAT,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from "../../src/kernel/include/vm_flags.js";
import type { Kernel } from "../../src/kernel/kernel.js";
import { Machine } from "../../src/kernel/machine.js";
import { folio_pincount } from "../../src/kernel/mm/folio.js";
import { type MmStruct, VmArea, type VmFault, type VmOperations } from "../../src/kernel/mm/mm_types.js";
import type { TraceEvent } from "../../src/kernel/tracepoint.js";
import type { Task } from "../../src/kernel/kernel/task.js";

export const RW = PROT_READ | PROT_WRITE;
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
export const PAGE = PAGE_SIZE;
export const M2 = 2 * 1024 * 1024;

export interface Env {
  m: Machine;
  k: Kernel;
  A: number;
  t: Task;
  mm: MmStruct;
}

/** A machine with one process A. */
export function boot(cfg: MachineConfigInput = {}): Env {
  const m = new Machine(cfg);
  const A = m.spawn("A");
  const t = m.task(A);
  return { m, k: m.k, A, t, mm: t.mm! };
}

/** mmap anonymous memory in pid; throws if mmap fails. */
export function mapAnon(m: Machine, pid: number, len: number, prot = RW, flags = ANON): number {
  const a = m.mmap(pid, 0, len, prot, flags, -1, 0);
  if (a < 0) throw new Error(`mmap failed: ${a}`);
  return a;
}

/** Run fn as process pid (k.current). */
export function as<T>(m: Machine, pid: number, fn: () => T): T {
  return m.k.asTask(m.task(pid), fn);
}

export interface PinCounters {
  acq: number;
  rel: number;
}

export function pins(k: Kernel): PinCounters {
  return { acq: k.vmstat.nr_foll_pin_acquired, rel: k.vmstat.nr_foll_pin_released };
}

/** The pin counters' change over fn. */
export function pinDelta(k: Kernel, fn: () => void): PinCounters {
  const a = pins(k);
  fn();
  const b = pins(k);
  return { acq: b.acq - a.acq, rel: b.rel - a.rel };
}

export function refcount(k: Kernel, pfn: number): number {
  return k.memmap.refcount(k.memmap.head(pfn));
}

export function pincount(k: Kernel, pfn: number): number {
  const f = k.memmap.head(pfn);
  return k.memmap.order(f) > 0 ? folio_pincount(k, f) : 0;
}

/** Collect trace events of the given names while fn runs. */
export function traced<T>(k: Kernel, names: string[], fn: () => T): { ret: T; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const off = k.trace.subscribe((e) => {
    if (names.includes(e.name)) events.push(e);
  });
  try {
    return { ret: fn(), events };
  } finally {
    off();
  }
}

/** The WARN events fired while fn runs (each with its site). */
export function warnings<T>(k: Kernel, fn: () => T): { ret: T; warns: string[] } {
  const { ret, events } = traced(k, ["warn"], fn);
  return { ret, warns: events.map((e) => `${e.where}: ${String(e.args.message)}`) };
}

let mounts = 0;
/**
 * A file of `size` bytes on a fresh mount of fsType, opened O_RDWR by pid;
 * returns the descriptor.
 */
export function openFile(
  m: Machine,
  pid: number,
  fsType: string,
  size: number,
  opts: { pagesize?: number } = {},
): number {
  const dir = `/mnt${++mounts}`;
  const r = do_mount(m.k, fsType, dir, opts);
  if (r) throw new Error(`mount ${fsType}: ${r}`);
  const t = m.task(pid);
  const fd = sys_open(m.k, t, `${dir}/f`, O_RDWR | O_CREAT, 0o644);
  if (fd < 0) throw new Error(`open: ${fd}`);
  if (size) {
    const e = sys_ftruncate(m.k, t, fd, size);
    if (e) throw new Error(`ftruncate: ${e}`);
  }
  return fd;
}

/** mmap a file descriptor; throws if mmap fails. */
export function mapFile(
  m: Machine,
  pid: number,
  fd: number,
  len: number,
  prot: number,
  flags: number,
): number {
  const a = m.mmap(pid, 0, len, prot, flags, fd, 0);
  if (a < 0) throw new Error(`mmap(fd ${fd}) failed: ${a}`);
  return a;
}

/** A fault handler of a hand-built file VMA: allocates a page per fault unless `answer` says otherwise. */
export interface FakeFile {
  ops: VmOperations;
  /** fault flags of every ->fault call */
  calls: number[];
  /** what ->fault returns, given the fault flags (0: allocate and return a page) */
  answer: (flags: number) => number;
}

/**
 * A private file-like VMA of `pages` pages at `addr` in mm whose ->fault
 * the test controls (a file system that waits for I/O returns
 * VM_FAULT_RETRY, an OOM returns VM_FAULT_OOM …). It is not in any page
 * cache: pages it hands out are anonymous-less private pages with one
 * reference for the mapping.
 */
export function fakeFileVma(
  k: Kernel,
  mm: MmStruct,
  addr: number,
  pages: number,
  vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE,
): { vma: VmArea; file: FakeFile } {
  const file: FakeFile = {
    calls: [],
    answer: () => 0,
    ops: {
      name: "special",
      fault: (vmf: VmFault): number => {
        file.calls.push(vmf.flags);
        const a = file.answer(vmf.flags);
        if (a) return a;
        const pfn = k.pa.alloc_pages(0, 0);
        if (pfn < 0 || pfn === 0xffffffff) return VM_FAULT.OOM;
        k.memmap.set(pfn, 1 << 4 /* PG_lru */);
        vmf.page = pfn;
        return 0;
      },
    },
  };
  const vma = new VmArea(mm, addr, addr + pages * PAGE, vm_flags, 0, null, file.ops);
  mm.insertVma(vma);
  return { vma, file };
}
