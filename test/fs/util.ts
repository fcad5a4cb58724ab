/** Shared set-up for the file-system tests: a small kernel, a task with an mm, hand-built VMAs. */
import { resolveConfig, type MachineConfigInput } from "../../src/kernel/config.js";
import { FAULT_FLAG } from "../../src/kernel/include/fault.js";
import { PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { PTE } from "../../src/kernel/include/pgtable.js";
import {
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from "../../src/kernel/include/vm_flags.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { Task } from "../../src/kernel/kernel/task.js";
import { handle_mm_fault, pte_lookup } from "../../src/kernel/mm/memory.js";
import { MmStruct, VmArea } from "../../src/kernel/mm/mm_types.js";
import type { TraceEvent } from "../../src/kernel/tracepoint.js";
import { fd_file, type FsFile } from "../../src/kernel/fs/index.js";

export const MMAP_BASE = 0x7f0000000000;
export const SHARED_RW = VM_READ | VM_WRITE | VM_SHARED | VM_MAYSHARE | VM_MAYREAD | VM_MAYWRITE;
export const PRIVATE_RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

export interface Env {
  k: Kernel;
  t: Task;
  events: TraceEvent[];
}

export function boot(cfg: MachineConfigInput = {}): Env {
  const k = new Kernel(resolveConfig({ memory: 256 * 1024 * 1024, ...cfg }));
  const mm = new MmStruct(k.newId("mm"), MMAP_BASE);
  const t = new Task(k.newId("pid"), "A", mm, 0, [14], 8 * 1024 * 1024, null);
  k.tasks.set(t.pid, t);
  const events: TraceEvent[] = [];
  k.trace.subscribe((e) => events.push(e));
  return { k, t, events };
}

export function file(t: Task, fd: number): FsFile {
  const f = fd_file(t, fd);
  if (typeof f === "number") throw new Error(`fd ${fd}: ${f}`);
  return f;
}

/** A VMA built by hand and handed to f_op->mmap, as do_mmap() would. */
export function mapFile(env: Env, f: FsFile, start: number, pages: number, flags: number, pgoff = 0): VmArea {
  const mm = env.t.mm!;
  const vma = new VmArea(mm, start, start + pages * PAGE_SIZE, flags, pgoff, null, null);
  const r = f.mmap(env.k, vma);
  if (r !== 0) throw new Error(`mmap: ${r}`);
  mm.insertVma(vma);
  return vma;
}

export function fault(env: Env, vma: VmArea, addr: number, write: boolean): number {
  return handle_mm_fault(env.k, vma, addr, FAULT_FLAG.USER | (write ? FAULT_FLAG.WRITE : 0));
}

/** A user store: fault for write if needed, then write the page's content word. */
export function store(env: Env, vma: VmArea, addr: number, value: number): number {
  const e = pte_lookup(vma.vm_mm, addr);
  if (!e || !(e[0].bits[e[1]] & PTE.PRESENT) || !(e[0].bits[e[1]] & PTE.WRITE)) {
    const r = fault(env, vma, addr, true);
    if (r) return r;
  }
  const [t, i] = pte_lookup(vma.vm_mm, addr)!;
  t.bits[i] |= PTE.DIRTY | PTE.YOUNG;
  env.k.memmap.setContent(t.pfn[i], value);
  return 0;
}

export function ptePfn(vma: VmArea, addr: number): number | null {
  const e = pte_lookup(vma.vm_mm, addr);
  if (!e || !(e[0].bits[e[1]] & PTE.PRESENT)) return null;
  return e[0].pfn[e[1]];
}

export function pteBits(vma: VmArea, addr: number): number {
  const e = pte_lookup(vma.vm_mm, addr);
  return e ? e[0].bits[e[1]] : 0;
}

export function named(events: TraceEvent[], name: string): TraceEvent[] {
  return events.filter((e) => e.name === name);
}
