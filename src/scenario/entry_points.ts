/**
 * The one module that maps scenario names to the model: every call of the
 * call table (calls.ts) to a Machine method, kernel function or driver
 * entry point, every observer to a read of the machine, every mount kind
 * to a file system. Like linux-kernel.def maps kernel primitives onto model
 * events, apart from the model and from rendering (STYLE.md §2).
 *
 * A call the model does not implement yet is `NOT_YET`: the runner reports
 * PL501 for it, never a silent success. Plugging an implementation in is a
 * one-line change: replace `NOT_YET` by a function taking the call context
 * and the arguments in the table's order, typed from the table, e.g.
 *
 *     pin_user_pages_remote: (c, pid, start, nr, flags) => { const r = c.m.gup(c.actor, "pin_user_pages_remote", pid, pid, start, nr, flags); return pinValue(r.ret, r.pin); },
 *     unpin_user_pages: (c, pages) => releaseAll(pages, "unpin_user_pages", (r) => c.m.unpin(r)),
 *
 * An entry point returns the kernel's `≥ 0 | -errno` number or a Value
 * carrying a handle (pins, a pipe, …). Run-time misuse that the checker
 * cannot see (a handle whose call failed) throws RunError, which the runner
 * turns into a diagnostic.
 */
import { dma_read, dma_write } from "../kernel/drivers/device.js";
import type { PinRecord } from "../kernel/drivers/pin_table.js";
import { lookup_inode, WB_SYNC_ALL, writeback_complete, writeback_inode } from "../kernel/fs/index.js";
import { EFAULT, EINVAL, ENOENT, formatRet } from "../kernel/include/errno.js";
import type { GupApi } from "../kernel/drivers/pin_user.js";
import { MADV, MAP, MLOCK } from "../kernel/include/mman.js";
import { PAGE_SIZE } from "../kernel/include/mmzone.js";
import type { Machine, PageInfo } from "../kernel/machine.js";
import { MOVE_PAGES_STATUS_UNSET } from "../kernel/mm/move_pages.js";
import { CALLS, type CallName, OBSERVERS, type ObserverName } from "./calls.js";
import type { NodeId } from "./ast.js";
import type { DiagnosticCode } from "./diagnostics.js";
import {
  bool,
  type Handle,
  type HandleKind,
  int,
  NONE,
  pinnedPages,
  referencedPages,
  sym,
  type Value,
} from "./value.js";
import type { MountKind } from "./vocab.js";

/** What an entry point knows about the step calling it. */
export interface CallContext {
  readonly m: Machine;
  /** pid of the calling process for process calls; -1 for kernel and device actors */
  readonly pid: number;
  /** "A", "kernel", "vfio", "dev" — the owner recorded with pins a driver takes */
  readonly actor: string;
  /** 1-based step number (pin provenance) */
  readonly step: number;
  /** the name the result is bound to, if any (fork names the child after it) */
  readonly binding: string | null;
}

/** A run-time problem an entry point finds; the runner reports it with its code. */
export class RunError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly hint?: string,
    /** the node to point at (default: the statement) */
    readonly node?: NodeId,
  ) {
    super(message);
    this.name = "RunError";
  }
}

/** Marks a call the model does not implement yet. */
export const NOT_YET = "not implemented yet" as const;
export type NotYet = typeof NOT_YET;

// Argument types, derived from the table: a process is its pid; handles and
// descriptors come as Values (a descriptor may be a pipe binding); strings
// and paths as text; everything else as an integer.
type ArgTs<S> = S extends { kind: "handle" | "fd" }
  ? Value
  : S extends { kind: "string" | "path" }
    ? string
    : number;
type WithOpt<S> = S extends { optional: true } ? ArgTs<S> | undefined : ArgTs<S>;
type ArgsTs<T extends readonly unknown[]> = { -readonly [I in keyof T]: WithOpt<T[I]> };

/** Arguments of call N, in the table's order. */
export type CallArgs<N extends CallName> = ArgsTs<(typeof CALLS)[N]["args"]>;
export type ObserverArgs<N extends ObserverName> = ArgsTs<(typeof OBSERVERS)[N]["args"]>;

export type EntryPoint<N extends CallName> = (c: CallContext, ...args: CallArgs<N>) => Value | number;
export type ObserverImpl<N extends ObserverName> = (m: Machine, ...args: ObserverArgs<N>) => Value;

/** The pin records a handle holds, or a RunError naming the binding's problem. */
function pinsOf(v: Value, call: string): PinRecord[] {
  const h: Handle | undefined = v.kind === "int" ? v.handle : undefined;
  if (!h || h.pins.length === 0)
    throw new RunError(
      "PL506",
      `${call}: the handle holds no pages${v.kind === "int" ? ` (its call returned ${formatRet(v.n)})` : ""}`,
      "expect the pinning call to succeed first (`= 512`, `= ok`)",
    );
  return h.pins;
}

/**
 * A pinning call's result as a Value: the count (or -errno) and, when a pin
 * record was made, a handle on it — what GUP, io_uring, vfio and vmsplice
 * entry points return once plugged in.
 */
export function pinValue(ret: number, pin: PinRecord | null, kind?: HandleKind): Value {
  if (!pin) return int(ret);
  return int(ret, { kind: kind ?? (pin.kind === "ref" ? "refs" : "pins"), pins: [pin], fds: [] });
}

/** Release every record a handle holds (unpin_user_pages, put_page, unregister). */
export function releaseAll(v: Value, call: string, release: (r: PinRecord) => void): number {
  for (const r of pinsOf(v, call)) if (!r.released) release(r);
  return 0;
}

export const ENTRY_POINTS: { readonly [N in CallName]: EntryPoint<N> | NotYet } = {
  // process: memory system calls (src/kernel/machine.ts)
  mmap: (c, addr, len, prot, flags, fd, off) => c.m.mmap(c.pid, addr, len, prot, flags, intOf(fd), off),
  munmap: (c, addr, len) => c.m.munmap(c.pid, addr, len),
  mprotect: (c, addr, len, prot) => c.m.mprotect(c.pid, addr, len, prot),
  madvise: (c, addr, len, advice) => c.m.madvise(c.pid, addr, len, advice),
  mremap: (c, old, oldLen, newLen, flags, newAddr) =>
    c.m.mremap(c.pid, old, oldLen, newLen, flags, newAddr ?? 0),
  mlock: (c, addr, len) => c.m.mlock(c.pid, addr, len),
  mlock2: (c, addr, len, flags) => c.m.mlock2(c.pid, addr, len, flags),
  munlock: (c, addr, len) => c.m.munlock(c.pid, addr, len),
  mlockall: (c, flags) => c.m.mlockall(c.pid, flags),
  munlockall: (c) => c.m.munlockall(c.pid),
  uffdio_move: (c, dst, src, len, mode) => c.m.uffdio_move(c.pid, dst, src, len, mode ?? 0),
  fork: (c) => c.m.fork(c.pid, c.binding ?? undefined),
  exit: (c, status) => c.m.exit(c.pid, status),
  // process: memory access
  memset: (c, addr, value, len) => c.m.memset(c.pid, addr, value, len),
  store: (c, addr, value) => c.m.store(c.pid, addr, value),
  load: (c, addr) => c.m.load(c.pid, addr),
  // process: files (src/kernel/fs through the Machine)
  open: (c, path, flags) => c.m.open(c.pid, path, flags),
  close: (c, fd) => c.m.close(c.pid, fdOf(fd, "read")),
  ftruncate: (c, fd, len) => c.m.ftruncate(c.pid, fdOf(fd, "write"), len),
  fallocate: (c, fd, mode, off, len) => c.m.fallocate(c.pid, fdOf(fd, "write"), mode, off, len),
  fsync: (c, fd) => c.m.fsync(c.pid, fdOf(fd, "write")),
  read: (c, fd, count) => c.m.read(c.pid, fdOf(fd, "read"), count),
  write: (c, fd, buf, count) => c.m.write(c.pid, fdOf(fd, "write"), buf, count),
  pread: (c, fd, buf, count, off) => c.m.pread(c.pid, fdOf(fd, "read"), buf, count, off),
  pwrite: (c, fd, buf, count, off) => c.m.pwrite(c.pid, fdOf(fd, "write"), buf, count, off),
  memfd_create: (c, name, flags) => c.m.memfd_create(c.pid, name, flags),
  memfd_secret: (c, flags) => c.m.memfd_secret(c.pid, flags),
  pipe: (c) => {
    const [r, w] = c.m.pipe(c.pid);
    return int(0, { kind: "pipe", pins: [], fds: [r, w] });
  },
  vmsplice: (c, fd, addr, len, flags) => c.m.vmsplice(c.pid, fdOf(fd, "write"), addr, len, flags),
  io_uring_register_buffers: (c, addr, len) => {
    const r = c.m.io_uring_register_buffers(c.pid, addr, len);
    return pinValue(r, r === 0 ? c.m.io_uring_buffer(c.pid, 0) : null, "io_uring");
  },
  io_uring_unregister_buffers: (c) => c.m.io_uring_unregister_buffers(c.pid),
  process_vm_readv: (c, pid, local, llen, remote, rlen, flags) =>
    c.m.process_vm_readv(c.pid, pid, local, llen, remote, rlen, flags),
  process_vm_writev: (c, pid, local, llen, remote, rlen, flags) =>
    c.m.process_vm_writev(c.pid, pid, local, llen, remote, rlen, flags),
  move_pages: (c, pid, addr, node, flags, nr) => movePages(c, pid, addr, nr, node, flags),
  move_pages_stat: (c, pid, addr, nr) => movePages(c, pid, addr, nr, null, 0),
  // kernel: GUP (mm/gup.c)
  get_user_pages: (c, pid, start, nr, flags) => gupCall(c, "get_user_pages", pid, start, nr, flags),
  get_user_pages_fast: (c, pid, start, nr, flags) => gupCall(c, "get_user_pages_fast", pid, start, nr, flags),
  get_user_pages_fast_only: (c, pid, start, nr, flags) =>
    gupCall(c, "get_user_pages_fast_only", pid, start, nr, flags),
  get_user_pages_remote: (c, pid, start, nr, flags) =>
    gupCall(c, "get_user_pages_remote", pid, start, nr, flags),
  get_user_pages_unlocked: (c, pid, start, nr, flags) =>
    gupCall(c, "get_user_pages_unlocked", pid, start, nr, flags),
  pin_user_pages: (c, pid, start, nr, flags) => gupCall(c, "pin_user_pages", pid, start, nr, flags),
  pin_user_pages_fast: (c, pid, start, nr, flags) => gupCall(c, "pin_user_pages_fast", pid, start, nr, flags),
  pin_user_pages_remote: (c, pid, start, nr, flags) =>
    gupCall(c, "pin_user_pages_remote", pid, start, nr, flags),
  pin_user_pages_unlocked: (c, pid, start, nr, flags) =>
    gupCall(c, "pin_user_pages_unlocked", pid, start, nr, flags),
  unpin_user_pages: (c, h) => releaseAll(h, "unpin_user_pages", (r) => c.m.unpin(r)),
  unpin_user_pages_dirty_lock: (c, h, dirty) =>
    releaseAll(h, "unpin_user_pages_dirty_lock", (r) => c.m.unpin(r, dirty !== 0)),
  put_page: (c, h) => releaseAll(h, "put_page", (r) => c.m.unpin(r)),
  memfd_pin_folios: (c, pid, fd, start, end, max) => {
    const r = c.m.memfd_pin_folios(c.actor, pid, intOf(fd), start, end, max);
    return pinValue(r.ret, r.pin);
  },
  // kernel: memory management (mm/cma.c and mm/memory_hotplug.c wait for a migration function)
  cma_alloc: (c, size) => {
    const r = c.m.cma_alloc(Math.ceil(size / PAGE_SIZE));
    if (r.ret < 0) return r.ret;
    return int(0, { kind: "cma", pins: [], fds: [], pfn: r.pfn, count: Math.ceil(size / PAGE_SIZE) });
  },
  cma_release: (c, h) => {
    const hd = h.kind === "int" ? h.handle : undefined;
    if (!hd || hd.kind !== "cma" || hd.pfn === undefined || hd.count === undefined)
      throw new RunError("PL506", "cma_release: the handle holds no CMA allocation");
    return c.m.cma_release(hd.pfn, hd.count) ? 0 : -EINVAL;
  },
  offline_pages: (c, start, nr) => c.m.offline_pages(start, nr, OFFLINE_RETRY_BUDGET).ret,
  compact: (c) => c.m.compact().migrated,
  ksm_scan: (c) => c.m.ksm_scan(),
  writeback: (c, path) => c.m.writeback(path),
  filemap_fdatawrite: (c, path) => {
    const inode = lookup_inode(c.m.k, path);
    if (!inode) return -ENOENT;
    return writeback_inode(c.m.k, inode, { sync_mode: WB_SYNC_ALL, async: true });
  },
  filemap_fdatawait: (c, path) => {
    const inode = lookup_inode(c.m.k, path);
    if (!inode) return -ENOENT;
    return writeback_complete(c.m.k, inode.mapping);
  },
  // devices (src/kernel/drivers/device.ts): through whatever the handle pinned
  dma_read: (c, h, page) => dma_read(c.m.k, pinsOf(h, "dma_read")[0], page ?? 0),
  dma_write: (c, h, value, page) => {
    for (const rec of pinsOf(h, "dma_write")) {
      const r = page === undefined ? dma_write(c.m.k, rec, value) : dma_write(c.m.k, rec, value, page, 1);
      if (r < 0) return r;
    }
    return 0;
  },
};

/**
 * offline_pages() retries forever on a pinned page; the runner stops after
 * this many passes and reports -EINTR, the administrator's signal.
 */
export const OFFLINE_RETRY_BUDGET = 64;

/** A GUP call by a kernel-side actor, in the target process's context. */
function gupCall(c: CallContext, api: GupApi, pid: number, start: number, nr: number, flags: number): Value {
  const r = c.m.gup(c.actor, api, pid, pid, start, nr, flags);
  return pinValue(r.ret, r.pin);
}

/**
 * move_pages(2) on nr pages from addr (one page apart), all to `node` or,
 * with node === null, queried (nodes == NULL). The status array starts as
 * MOVE_PAGES_STATUS_UNSET so entries the kernel leaves alone show.
 */
function movePages(
  c: CallContext,
  pid: number,
  addr: number,
  nr: number | undefined,
  node: number | null,
  flags: number,
): Value {
  const n = nr ?? 1;
  if (!Number.isSafeInteger(n) || n < 0 || n > MOVE_PAGES_MAX)
    throw new RunError("PL506", `move_pages: nr_pages=${n} is out of range`, `use 0 … ${MOVE_PAGES_MAX}`);
  const pages = Array.from({ length: n }, (_, i) => addr + i * PAGE_SIZE);
  const status = new Int32Array(n).fill(MOVE_PAGES_STATUS_UNSET);
  const ret = c.m.sys_move_pages(
    c.pid,
    pid,
    pages,
    node === null ? null : pages.map(() => node),
    status,
    flags,
  );
  return int(ret, { kind: "status", pins: [], fds: [], status: Array.from(status) });
}

/** The most pages one scenario move_pages() call takes (the oracle's runner passes at most 512). */
const MOVE_PAGES_MAX = 512;

/** The integer a descriptor argument stands for (a plain fd, or a binding's value). */
function intOf(v: Value): number {
  if (v.kind !== "int") throw new RunError("PL506", "a descriptor must be a number");
  return v.n;
}

/** A descriptor argument: a number, or the read or write end of a binding holding a pipe. */
function fdOf(v: Value, end: "read" | "write"): number {
  const fds = v.kind === "int" ? v.handle?.fds : undefined;
  if (fds && fds.length) return fds[end === "read" ? 0 : fds.length - 1];
  return intOf(v);
}

/**
 * Bytes a call will touch page by page, for the runner's per-step budget
 * (so a mutated `memset(buf, 1, 64T)` cannot hang a run). Calls not listed
 * touch no more than what earlier steps populated.
 */
export const PAGE_BUDGET: { readonly [N in CallName]?: (c: CallContext, ...args: CallArgs<N>) => number } = {
  memset: (_c, _addr, _value, len) => len,
  mmap: (_c, _addr, len, _prot, flags) => (flags & (MAP.MAP_POPULATE | MAP.MAP_LOCKED) ? len : 0),
  mlock: (_c, _addr, len) => len,
  mlock2: (_c, _addr, len) => len,
  madvise: (_c, _addr, len, advice) =>
    advice === MADV.MADV_POPULATE_READ || advice === MADV.MADV_POPULATE_WRITE || advice === MADV.MADV_WILLNEED
      ? len
      : 0,
  mremap: (_c, _old, oldLen, newLen) => Math.max(0, newLen - oldLen),
  move_pages: (_c, _pid, _addr, _node, _flags, nr) => (nr ?? 1) * PAGE_SIZE,
  move_pages_stat: (_c, _pid, _addr, nr) => (nr ?? 1) * PAGE_SIZE,
  mlockall: (c, flags) => (flags & MLOCK.MCL_CURRENT ? (c.m.task(c.pid).mm?.total_vm ?? 0) * PAGE_SIZE : 0),
};

// --- observers --------------------------------------------------------------------------

/** The page mapped at addr, or null. */
function pageAt(m: Machine, pid: number, addr: number): PageInfo | null {
  const pfn = m.translate(pid, addr);
  return pfn < 0 ? null : m.page(pfn);
}

/**
 * An observer of the page mapped at addr. Nothing mapped there: numbers
 * read -EFAULT (like pfn() and load()), truth values false, zones and
 * migratetypes "not mapped" (unequal to every name).
 */
function pageObs(f: (p: PageInfo) => Value, unmapped: Value): ObserverImpl<"zone"> {
  return (m, pid, addr) => {
    const p = pageAt(m, pid, addr);
    return p ? f(p) : unmapped;
  };
}
const pageInt = (f: (p: PageInfo) => number) => pageObs((p) => int(f(p)), int(-EFAULT));
const pageBool = (f: (p: PageInfo) => boolean) => pageObs((p) => bool(f(p)), bool(false));

const handleOf = (v: Value): Handle | undefined => (v.kind === "int" ? v.handle : undefined);

export const OBSERVER_IMPLS: { readonly [N in ObserverName]: ObserverImpl<N> } = {
  load: (m, pid, addr) => int(m.peek(pid, addr)),
  pfn: (m, pid, addr) => int(m.translate(pid, addr)),
  zone: pageObs((p) => sym("zone", p.zone.toUpperCase()), NONE),
  migratetype: pageObs((p) => sym("migratetype", p.migratetype.toUpperCase()), NONE),
  anon_exclusive: pageBool((p) => p.anonExclusive),
  refcount: pageInt((p) => p.refcount),
  mapcount: pageInt((p) => p.mapcount),
  pincount: pageInt((p) => p.pincount),
  maybe_pinned: pageBool((p) => p.maybeDmaPinned),
  order: pageInt((p) => p.order),
  node: pageInt((p) => p.node),
  dirty: pageBool((p) => p.dirty),
  under_writeback: pageBool((p) => p.writeback),
  hugetlb: pageBool((p) => p.hugetlb),
  anon: pageBool((p) => p.anon),
  zero_page: pageBool((p) => p.zeroPage),
  mapped: (m, pid, addr) => bool(m.translate(pid, addr) >= 0),
  writable: (m, pid, addr) => bool(m.writable(pid, addr)),
  vmpin: (m, pid) => int(m.status(pid).VmPin * 1024),
  vmlck: (m, pid) => int(m.status(pid).VmLck * 1024),
  rss: (m, pid) => int(m.status(pid).VmRSS * 1024),
  exited: (m, pid) => bool(m.task(pid).state !== "running"),
  foll_pins: (m) => int(m.k.vmstat.nr_foll_pin_acquired - m.k.vmstat.nr_foll_pin_released),
  pinned: (_m, h) => int(pinnedPages(handleOf(h))),
  referenced: (_m, h) => int(referencedPages(handleOf(h))),
  move_status: (_m, h, i) => {
    const st = handleOf(h)?.status ?? [];
    if (!Number.isInteger(i) || i < 0 || i >= st.length)
      throw new RunError(
        "PL506",
        `move_status: index ${i} is outside the call's ${st.length} page(s)`,
        `use 0 … ${Math.max(0, st.length - 1)}`,
      );
    return int(st[i]);
  },
};

/** Mounting a file system of each kind at a path: 0 or -errno. */
export const MOUNTS: { readonly [K in MountKind]: ((m: Machine, path: string) => number) | NotYet } = {
  ext4: (m, path) => m.mount("ext4", path),
  xfs: (m, path) => m.mount("xfs", path),
  btrfs: (m, path) => m.mount("btrfs", path),
  tmpfs: (m, path) => m.mount("tmpfs", path),
  hugetlbfs: (m, path) => m.mount("hugetlbfs", path),
  fsdax: (m, path) => m.mount("fsdax", path),
};

/** Is the call wired to the model? */
export function implemented(name: CallName): boolean {
  return ENTRY_POINTS[name] !== NOT_YET;
}
