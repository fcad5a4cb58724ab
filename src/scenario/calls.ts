/**
 * The call table: every call a scenario step may make and every observer an
 * expression may use, with its arity, argument kinds, who may call it and
 * what it returns. Pure data: the checker reads it for arity, kinds and
 * "did you mean"; entry_points.ts maps each name to the model's function.
 *
 * Argument order is the kernel's (real syscall and GUP signatures), minus
 * what the scenario cannot express (`struct page **pages`, iovec arrays: an
 * iovec call takes one range). Kernel-side GUP calls take the process first.
 */
import type { FlagFamily } from "./vocab.js";
import type { HandleKind } from "./value.js";

/**
 * process: a process name; address/size/int/byte: an integer expression
 * (size: ≥ 0, K/M/G welcome; byte: a content value); fd: a descriptor or a
 * binding holding one; flags: a union of one family's names; handle: a
 * binding holding pins, references, a pipe…; string: "text"; path: /a/path or "text".
 */
export type ArgKind =
  "process" | "address" | "size" | "int" | "byte" | "fd" | "flags" | "handle" | "string" | "path";

export interface ArgSpec {
  readonly name: string;
  readonly kind: ArgKind;
  /** flags: the family its names must come from */
  readonly family?: FlagFamily;
  /** handle: the handle kinds accepted */
  readonly handles?: readonly HandleKind[];
  /** may be left out (only trailing arguments) */
  readonly optional?: true;
}

/** Who may make a call: a process (a syscall), the kernel or a driver, a device. */
export type CallerClass = "process" | "kernel" | "device";

/**
 * int: a count or 0; address: a user address (printed in hex); fd: a new
 * descriptor; process: a new process (the binding names it); content: a
 * page's content word (printed in hex).
 */
export type ResultKind = "int" | "address" | "fd" | "process" | "content";

export interface CallSpec {
  readonly caller: CallerClass;
  readonly args: readonly ArgSpec[];
  readonly result: ResultKind;
  /** the handle the call's result carries, if any */
  readonly handle?: HandleKind;
  /** the kernel function that decides it */
  readonly kernel: string;
  /** one line for docs and --help */
  readonly doc: string;
}

// argument constructors, to keep the table one line per call
const a = <K extends ArgKind>(name: string, kind: K) => ({ name, kind }) as const;
const opt = <K extends ArgKind>(name: string, kind: K) => ({ name, kind, optional: true }) as const;
const fl = <F extends FlagFamily>(name: string, family: F) => ({ name, kind: "flags", family }) as const;
const h = <H extends readonly HandleKind[]>(name: string, handles: H) =>
  ({ name, kind: "handle", handles }) as const;
const proc = a("pid", "process");
const addr = a("addr", "address");
const len = a("len", "size");
const fd = a("fd", "fd");
const nr = a("nr_pages", "int");
const foll = fl("gup_flags", "FOLL");
const PINS = ["pins", "refs", "io_uring"] as const;

/** GUP entry points share one signature in scenarios: (process, start, nr_pages, gup_flags). */
const gup = (handle: "pins" | "refs", fn: string, doc: string) =>
  ({
    caller: "kernel",
    args: [proc, a("start", "address"), nr, foll],
    result: "int",
    handle,
    kernel: `mm/gup.c: ${fn}()`,
    doc,
  }) as const;

export const CALLS = {
  // --- process: memory system calls --------------------------------------------------
  mmap: {
    caller: "process",
    args: [addr, len, fl("prot", "PROT"), fl("flags", "MAP"), fd, a("offset", "size")],
    result: "address",
    kernel: "mm/mmap.c: do_mmap()",
    doc: "map memory; the new mapping's address or -errno",
  },
  munmap: {
    caller: "process",
    args: [addr, len],
    result: "int",
    kernel: "mm/vma.c: do_vmi_munmap()",
    doc: "unmap a range",
  },
  mprotect: {
    caller: "process",
    args: [addr, len, fl("prot", "PROT")],
    result: "int",
    kernel: "mm/mprotect.c: do_mprotect_pkey()",
    doc: "change protection",
  },
  madvise: {
    caller: "process",
    args: [addr, len, fl("advice", "MADV")],
    result: "int",
    kernel: "mm/madvise.c: do_madvise()",
    doc: "advise (MADV_DONTNEED, MADV_HUGEPAGE, MADV_DONTFORK, MADV_POPULATE_WRITE, …)",
  },
  mremap: {
    caller: "process",
    args: [
      a("old_addr", "address"),
      a("old_len", "size"),
      a("new_len", "size"),
      fl("flags", "MREMAP"),
      opt("new_addr", "address"),
    ],
    result: "address",
    kernel: "mm/mremap.c: do_mremap()",
    doc: "grow, shrink or move a mapping",
  },
  mlock: {
    caller: "process",
    args: [addr, len],
    result: "int",
    kernel: "mm/mlock.c: do_mlock()",
    doc: "lock pages in memory",
  },
  mlock2: {
    caller: "process",
    args: [addr, len, fl("flags", "MLOCK")],
    result: "int",
    kernel: "mm/mlock.c: do_mlock()",
    doc: "mlock with MLOCK_ONFAULT",
  },
  munlock: {
    caller: "process",
    args: [addr, len],
    result: "int",
    kernel: "mm/mlock.c: sys_munlock()",
    doc: "unlock pages",
  },
  mlockall: {
    caller: "process",
    args: [fl("flags", "MCL")],
    result: "int",
    kernel: "mm/mlock.c: sys_mlockall()",
    doc: "lock the whole address space (MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT)",
  },
  munlockall: {
    caller: "process",
    args: [],
    result: "int",
    kernel: "mm/mlock.c: sys_munlockall()",
    doc: "unlock everything",
  },
  uffdio_move: {
    caller: "process",
    args: [a("dst", "address"), a("src", "address"), len, opt("mode", "int")],
    result: "int",
    kernel: "mm/userfaultfd.c: move_pages()",
    doc: "ioctl(UFFDIO_MOVE) on a userfaultfd registered over dst: move src's pages to dst (-EBUSY for a pinned page)",
  },
  fork: {
    caller: "process",
    args: [],
    result: "process",
    kernel: "kernel/fork.c: kernel_clone()",
    doc: "fork; `B = fork()` declares process B",
  },
  exit: {
    caller: "process",
    args: [a("status", "int")],
    result: "int",
    kernel: "kernel/exit.c: do_exit()",
    doc: "exit the process",
  },
  // --- process: memory access helpers -------------------------------------------------
  memset: {
    caller: "process",
    args: [addr, a("value", "byte"), len],
    result: "int",
    kernel: "arch/x86/mm/fault.c: do_user_addr_fault()",
    doc: "user stores of value into every page of the range; 0 or -EFAULT (SIGSEGV/SIGBUS)",
  },
  store: {
    caller: "process",
    args: [addr, a("value", "byte")],
    result: "int",
    kernel: "arch/x86/mm/fault.c: do_user_addr_fault()",
    doc: "one user store into the page holding addr",
  },
  load: {
    caller: "process",
    args: [addr],
    result: "content",
    kernel: "arch/x86/mm/fault.c: do_user_addr_fault()",
    doc: "a user read (faulting the page in): the page's content or -EFAULT",
  },
  // --- process: files ----------------------------------------------------------------
  open: {
    caller: "process",
    args: [a("pathname", "path"), fl("flags", "O")],
    result: "fd",
    kernel: "fs/open.c: do_sys_openat2()",
    doc: 'open a file; "/proc/self/mem" opens the process\'s memory',
  },
  close: {
    caller: "process",
    args: [fd],
    result: "int",
    kernel: "fs/open.c: close_fd()",
    doc: "close a descriptor",
  },
  ftruncate: {
    caller: "process",
    args: [fd, a("length", "size")],
    result: "int",
    kernel: "fs/open.c: do_ftruncate()",
    doc: "set a file's size",
  },
  fallocate: {
    caller: "process",
    args: [fd, fl("mode", "FALLOC"), a("offset", "size"), len],
    result: "int",
    kernel: "fs/open.c: vfs_fallocate()",
    doc: "allocate or punch a hole (FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE)",
  },
  fsync: {
    caller: "process",
    args: [fd],
    result: "int",
    kernel: "fs/sync.c: vfs_fsync_range()",
    doc: "write back and wait",
  },
  read: {
    caller: "process",
    args: [fd, a("count", "size")],
    result: "content",
    kernel: "fs/read_write.c: vfs_read()",
    doc: "read from a file or pipe: the content read",
  },
  write: {
    caller: "process",
    args: [fd, a("buf", "address"), a("count", "size")],
    result: "int",
    kernel: "fs/read_write.c: vfs_write()",
    doc: "write user memory to a file or pipe: bytes written",
  },
  pread: {
    caller: "process",
    args: [fd, a("buf", "address"), a("count", "size"), a("offset", "size")],
    result: "int",
    kernel: "fs/read_write.c: ksys_pread64()",
    doc: "read into user memory at a file offset (O_DIRECT pins the buffer)",
  },
  pwrite: {
    caller: "process",
    args: [fd, a("buf", "address"), a("count", "size"), a("offset", "address")],
    result: "int",
    kernel: "fs/read_write.c: ksys_pwrite64()",
    doc: "write user memory at a file offset (O_DIRECT; /proc/self/mem writes to addr)",
  },
  memfd_create: {
    caller: "process",
    args: [a("name", "string"), fl("flags", "MFD")],
    result: "fd",
    kernel: "mm/memfd.c: memfd_create()",
    doc: "an anonymous shmem or hugetlbfs file",
  },
  memfd_secret: {
    caller: "process",
    args: [a("flags", "int")],
    result: "fd",
    kernel: "mm/secretmem.c: memfd_secret()",
    doc: "a secretmem file (unpinnable)",
  },
  pipe: {
    caller: "process",
    args: [],
    result: "int",
    handle: "pipe",
    kernel: "fs/pipe.c: do_pipe2()",
    doc: "a pipe; the binding holds both ends",
  },
  vmsplice: {
    caller: "process",
    args: [fd, addr, len, a("flags", "int")],
    result: "int",
    kernel: "fs/splice.c: vmsplice_to_pipe()",
    doc: "splice user pages into a pipe by reference (FOLL_GET)",
  },
  io_uring_register_buffers: {
    caller: "process",
    args: [addr, len],
    result: "int",
    handle: "io_uring",
    kernel: "io_uring/rsrc.c: io_sqe_buffers_register()",
    doc: "register a fixed buffer: pin_user_pages(FOLL_WRITE|FOLL_LONGTERM)",
  },
  io_uring_unregister_buffers: {
    caller: "process",
    args: [h("buffers", ["io_uring"])],
    result: "int",
    kernel: "io_uring/rsrc.c: io_sqe_buffers_unregister()",
    doc: "unregister fixed buffers: unpin",
  },
  process_vm_readv: {
    caller: "process",
    args: [
      proc,
      a("local", "address"),
      a("local_len", "size"),
      a("remote", "address"),
      a("remote_len", "size"),
      a("flags", "int"),
    ],
    result: "int",
    kernel: "mm/process_vm_access.c: process_vm_rw_core()",
    doc: "copy from another process's memory (pins the remote pages)",
  },
  process_vm_writev: {
    caller: "process",
    args: [
      proc,
      a("local", "address"),
      a("local_len", "size"),
      a("remote", "address"),
      a("remote_len", "size"),
      a("flags", "int"),
    ],
    result: "int",
    kernel: "mm/process_vm_access.c: process_vm_rw_core()",
    doc: "copy into another process's memory (pins the remote pages, FOLL_WRITE)",
  },
  move_pages: {
    caller: "process",
    args: [proc, addr, a("node", "int"), fl("flags", "MPOL_MF"), opt("nr_pages", "int")],
    result: "int",
    handle: "status",
    kernel: "mm/migrate.c: kernel_move_pages()",
    doc: "migrate nr_pages (default 1) pages from addr of a process to a node: 0, the pages not migrated, or -errno; move_status() reads each page's status",
  },
  move_pages_stat: {
    caller: "process",
    args: [proc, addr, opt("nr_pages", "int")],
    result: "int",
    handle: "status",
    kernel: "mm/migrate.c: do_pages_stat()",
    doc: "move_pages() with nodes == NULL: each page's node (or -ENOENT/-EFAULT) into the status move_status() reads",
  },
  // --- kernel: GUP ---------------------------------------------------------------------
  get_user_pages: gup("refs", "get_user_pages", "FOLL_GET references, mmap_lock held by the caller"),
  get_user_pages_fast: gup("refs", "get_user_pages_fast", "FOLL_GET references, lockless walk first"),
  get_user_pages_fast_only: gup(
    "refs",
    "get_user_pages_fast_only",
    "FOLL_GET references, lockless walk only",
  ),
  get_user_pages_remote: gup("refs", "get_user_pages_remote", "FOLL_GET references on another mm"),
  get_user_pages_unlocked: gup("refs", "get_user_pages_unlocked", "FOLL_GET references, GUP takes mmap_lock"),
  pin_user_pages: gup("pins", "pin_user_pages", "FOLL_PIN pins, mmap_lock held by the caller"),
  pin_user_pages_fast: gup("pins", "pin_user_pages_fast", "FOLL_PIN pins, lockless walk first"),
  pin_user_pages_remote: gup("pins", "pin_user_pages_remote", "FOLL_PIN pins on another mm"),
  pin_user_pages_unlocked: gup("pins", "pin_user_pages_unlocked", "FOLL_PIN pins, GUP takes mmap_lock"),
  unpin_user_pages: {
    caller: "kernel",
    args: [h("pages", ["pins"])],
    result: "int",
    kernel: "mm/gup.c: unpin_user_pages()",
    doc: "release pins",
  },
  unpin_user_pages_dirty_lock: {
    caller: "kernel",
    args: [h("pages", ["pins"]), a("make_dirty", "int")],
    result: "int",
    kernel: "mm/gup.c: unpin_user_pages_dirty_lock()",
    doc: "mark dirty (if make_dirty) and release pins",
  },
  put_page: {
    caller: "kernel",
    args: [h("pages", ["refs"])],
    result: "int",
    kernel: "include/linux/mm.h: put_page()",
    doc: "drop FOLL_GET references (put_page() on each page)",
  },
  memfd_pin_folios: {
    caller: "kernel",
    args: [proc, fd, a("start", "size"), a("end", "size"), a("max_folios", "int")],
    result: "int",
    handle: "pins",
    kernel: "mm/gup.c: memfd_pin_folios()",
    doc: "pin a memfd's folios (udmabuf, iommufd); end is inclusive",
  },
  // --- kernel: memory management ------------------------------------------------------
  cma_alloc: {
    caller: "kernel",
    args: [a("size", "size")],
    result: "int",
    handle: "cma",
    kernel: "mm/cma.c: cma_alloc()",
    doc: "allocate from the default CMA area: 0 or -EBUSY/-ENOMEM",
  },
  cma_release: {
    caller: "kernel",
    args: [h("allocation", ["cma"])],
    result: "int",
    kernel: "mm/cma.c: cma_release()",
    doc: "free a CMA allocation",
  },
  offline_pages: {
    caller: "kernel",
    args: [a("start_pfn", "int"), nr],
    result: "int",
    kernel: "mm/memory_hotplug.c: offline_pages()",
    doc: "offline a pageblock-aligned pfn range",
  },
  compact: {
    caller: "kernel",
    args: [],
    result: "int",
    kernel: "mm/compaction.c: compact_node()",
    doc: "compact all zones",
  },
  ksm_scan: {
    caller: "kernel",
    args: [],
    result: "int",
    kernel: "mm/ksm.c: ksm_do_scan()",
    doc: "one full KSM scan",
  },
  writeback: {
    caller: "kernel",
    args: [a("path", "path")],
    result: "int",
    kernel: "mm/page-writeback.c: do_writepages()",
    doc: "write a file's dirty pages back now (WB_SYNC_ALL): the number of pages written",
  },
  filemap_fdatawrite: {
    caller: "kernel",
    args: [a("path", "path")],
    result: "int",
    kernel: "mm/filemap.c: filemap_fdatawrite()",
    doc: "start writeback of a file's dirty pages and leave the I/O in flight (PG_writeback) until filemap_fdatawait(): the number of pages submitted",
  },
  filemap_fdatawait: {
    caller: "kernel",
    args: [a("path", "path")],
    result: "int",
    kernel: "mm/filemap.c: filemap_fdatawait()",
    doc: "wait for a file's writeback I/O, which completes it (the storage gets the pages' content now): the number of pages completed",
  },
  // --- devices ----------------------------------------------------------------------------
  dma_read: {
    caller: "device",
    args: [h("pages", PINS), opt("page", "int")],
    result: "content",
    kernel: "device DMA",
    doc: "the device reads page `page` (default 0) of what the handle pinned",
  },
  dma_write: {
    caller: "device",
    args: [h("pages", PINS), a("value", "byte"), opt("page", "int")],
    result: "int",
    kernel: "device DMA",
    doc: "the device writes value into every page (or page `page`) of what the handle pinned",
  },
} as const satisfies Record<string, CallSpec>;

export type CallName = keyof typeof CALLS;
export const CALL_NAMES = Object.keys(CALLS) as CallName[];
export function isCallName(s: string): s is CallName {
  return Object.prototype.hasOwnProperty.call(CALLS, s);
}
export function callSpec(name: CallName): CallSpec {
  return CALLS[name];
}

// --- observers ---------------------------------------------------------------------------

/** int; bool; zone and migratetype: a symbol compared with MOVABLE, NORMAL, CMA, … */
export type ObserverResult = "int" | "bool" | "zone" | "migratetype";

export interface ObserverSpec {
  readonly args: readonly ArgSpec[];
  readonly result: ObserverResult;
  readonly doc: string;
}

const page = (result: ObserverResult, doc: string) => ({ args: [proc, addr], result, doc }) as const;

/**
 * Observers read the machine without changing it (no faults): they are
 * what `assert` compares. Address observers look at the page mapped at that
 * address right now; when nothing is mapped there, numbers read -EFAULT,
 * truth values false, and zone()/migratetype() equal no name.
 */
export const OBSERVERS = {
  load: page(
    "int",
    "the content a read at addr would see, without faulting it in: unmapped anon reads 0, an unmapped file page its page-cache or disk content, beyond EOF -EFAULT",
  ),
  pfn: page("int", "the pfn mapped at addr, or -EFAULT"),
  zone: page("zone", "the zone of the page mapped at addr: DMA32, NORMAL or MOVABLE"),
  migratetype: page(
    "migratetype",
    "the pageblock migratetype: UNMOVABLE, MOVABLE, RECLAIMABLE, CMA, ISOLATE",
  ),
  anon_exclusive: page("bool", "PageAnonExclusive of the mapped page"),
  refcount: page("int", "the folio's refcount"),
  mapcount: page("int", "the page's mapcount (the folio's for a large folio)"),
  pincount: page("int", "the large folio's _pincount (0 for small folios)"),
  maybe_pinned: page("bool", "folio_maybe_dma_pinned()"),
  order: page("int", "the folio's order (0, 9 for a 2M THP, …)"),
  node: page("int", "the NUMA node of the mapped page (page_to_nid()), or -EFAULT"),
  dirty: page("bool", "the folio's dirty flag"),
  under_writeback: page("bool", "the folio's writeback flag"),
  hugetlb: page("bool", "a hugetlb folio"),
  anon: page("bool", "an anonymous folio"),
  zero_page: page("bool", "the shared zero page or huge zero folio"),
  mapped: page("bool", "something is mapped at addr"),
  writable: page("bool", "the PTE/PMD mapping addr is writable"),
  vmpin: { args: [proc], result: "int", doc: "the process's pinned_vm in bytes (/proc/PID/status VmPin)" },
  vmlck: { args: [proc], result: "int", doc: "the process's locked_vm in bytes (VmLck)" },
  rss: { args: [proc], result: "int", doc: "the process's resident memory in bytes (VmRSS)" },
  exited: { args: [proc], result: "bool", doc: "the process has exited" },
  foll_pins: {
    args: [],
    result: "int",
    doc: "pages pinned with FOLL_PIN machine-wide and not yet unpinned (/proc/vmstat nr_foll_pin_acquired − nr_foll_pin_released)",
  },
  pinned: { args: [h("pages", PINS)], result: "int", doc: "pages the handle still holds pinned" },
  referenced: {
    args: [h("pages", ["refs", "pipe"])],
    result: "int",
    doc: "pages the handle still holds by reference",
  },
  move_status: {
    args: [h("status", ["status"]), a("index", "int")],
    result: "int",
    doc: "entry `index` of a move_pages() status array: a node, -errno, or -2147483648 (INT_MIN) where the kernel wrote nothing",
  },
} as const satisfies Record<string, ObserverSpec>;

export type ObserverName = keyof typeof OBSERVERS;
export const OBSERVER_NAMES = Object.keys(OBSERVERS) as ObserverName[];
export function isObserverName(s: string): s is ObserverName {
  return Object.prototype.hasOwnProperty.call(OBSERVERS, s);
}

/** The number of required arguments and the maximum. */
export function arity(spec: { readonly args: readonly ArgSpec[] }): { min: number; max: number } {
  return { min: spec.args.filter((x) => !x.optional).length, max: spec.args.length };
}

/** `mmap(addr, len, prot, flags, fd, offset)` */
export function signature(name: string, spec: { readonly args: readonly ArgSpec[] }): string {
  return `${name}(${spec.args.map((x) => (x.optional ? `[${x.name}]` : x.name)).join(", ")})`;
}
