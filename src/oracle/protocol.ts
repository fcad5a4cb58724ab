/**
 * The wire protocol between `src/oracle/native.ts` and `native/pinlab-runner`:
 * one JSON object per line each way. docs/oracle-protocol.md is the prose
 * version of this file; the two must agree.
 */

/** Bumped when a message changes shape; the runner says its version in `hello`. */
export const PROTOCOL_VERSION = 1;

/**
 * Ops the runner answers itself, by reading /proc or changing machine state
 * (journaled). `proc` names the process to observe where one is needed.
 */
export const RUNNER_OPS = [
  "spawn",
  "pagemap",
  "pfn",
  "anon_exclusive",
  "peek",
  "status",
  "smaps",
  "vmstat",
  "ksm_stat",
  "set_knob",
  "get_knob",
  "nr_hugepages",
  "mount",
  "pipe_read",
  "kill",
  "ksm_wait",
  "info",
  "shutdown",
  "sleep_runner",
] as const;

/** Ops a process (a worker) executes as a real system call or user access. */
export const PROCESS_OPS = [
  "open",
  "close",
  "unlink",
  "ftruncate",
  "fallocate",
  "fsync",
  "read",
  "write",
  "pread",
  "pwrite",
  "mmap",
  "munmap",
  "mprotect",
  "madvise",
  "msync",
  "mremap",
  "mlock",
  "munlock",
  "mlockall",
  "munlockall",
  "fork",
  "exit",
  "memset",
  "store",
  "load",
  "memfd_create",
  "memfd_secret",
  "pipe",
  "vmsplice",
  "process_vm_readv",
  "process_vm_writev",
  "proc_mem_write",
  "proc_mem_read",
  "move_pages",
  "io_uring_register_buffers",
  "io_uring_unregister_buffers",
  "uring_write_fixed",
  "uring_read_fixed",
  "uffd_move",
  "getpid",
  "sleep",
] as const;

export type RunnerOp = (typeof RUNNER_OPS)[number];
export type ProcessOp = (typeof PROCESS_OPS)[number];
export type OracleOp = RunnerOp | ProcessOp;

/**
 * A reference to an earlier step's result, resolved by the client before the
 * step is sent: the bound step's `ret` (or `obs[field]`) plus `add`. This is
 * how scenarios' symbolic addresses (`buf + 4K`) become the real addresses
 * the kernel handed out.
 */
export interface SymRef {
  $ref: string;
  field?: string;
  add?: number;
}

/** An argument value: JSON, where numbers may also be flag expressions ("PROT_READ|PROT_WRITE", "2M"). */
export type ArgValue = number | string | boolean | null | SymRef | ArgValue[] | { [key: string]: ArgValue };

/** One step as the caller writes it. */
export interface OracleStep {
  /** Echoed in the result; the client assigns one when absent. */
  id?: number | string;
  /** The process that runs a process op, or the process a runner op observes. */
  proc?: string;
  op: OracleOp;
  args?: Record<string, ArgValue>;
  /** Per-step deadline in ms (default 10 000, at most 600 000). */
  timeout_ms?: number;
  /** Bind this step's result under a name, for later `SymRef`s. */
  bind?: string;
}

/** What the runner answers for one step. */
export interface OracleResult {
  id: number | string | null;
  /** A count ≥ 0 (or an address, a pid, a content word) or −errno, as the kernel returns. */
  ret?: number;
  /** 0 or the positive errno. */
  errno?: number;
  /** The errno's name, e.g. "EFAULT", when errno ≠ 0. */
  errname?: string;
  /** Observations; shape depends on the op (see the typed helpers). */
  obs?: Record<string, unknown>;
  /**
   * A fault of the step itself rather than a kernel answer: "timeout" (the
   * step was interrupted or its process killed), "crashed" (the process died),
   * or a message about a malformed step.
   */
  error?: string;
  detail?: string;
}

/** The first line the runner prints. */
export interface RunnerHello {
  version: number;
  pid: number;
  kernel: string;
  rundir: string;
  /** Whether the run directory is on ext4 (needed for MAP_SHARED ext4 cases). */
  ext4: boolean;
  /** /sys/kernel/mm/transparent_hugepage/enabled */
  thp: string;
  page_size: number;
  root: boolean;
  as_limit_mb: number;
}

/** One page of `pagemap` (the kpageflags fields need root and a present page). */
export interface PagemapPage {
  present: boolean;
  swap: boolean;
  /** bit 56, PM_MMAP_EXCLUSIVE: mapped exactly once (for anon: the anon-exclusive state as user space sees it). */
  exclusive: boolean;
  file: boolean;
  soft_dirty: boolean;
  uffd_wp: boolean;
  guard: boolean;
  pfn?: number;
  kflags?: number;
  anon?: boolean;
  thp?: boolean;
  hugetlb?: boolean;
  ksm?: boolean;
  zero?: boolean;
  head?: boolean;
  tail?: boolean;
  mlocked?: boolean;
  dirty?: boolean;
  /** /proc/kpagecount: the page's mapcount. */
  mapcount?: number;
}

/** /proc/PID/status fields, in kB. */
export interface StatusObs {
  VmPin: number;
  VmLck: number;
  VmRSS: number;
  RssAnon: number;
  RssFile: number;
  RssShmem: number;
  HugetlbPages: number;
  VmSize: number;
}

/** Content words of consecutive pages, run-length encoded: [word, pages]; null = unreadable. */
export type Runs = [number | null, number][];

/** Expand runs into one word per page. */
export function expandRuns(runs: Runs): (number | null)[] {
  const out: (number | null)[] = [];
  for (const [v, n] of runs) for (let i = 0; i < n; i++) out.push(v);
  return out;
}

/** A journal line: what the runner changed, written before the change. */
export type JournalEntry =
  | { t: "runner"; pid: number; start: number; rundir: string }
  | { t: "proc"; name: string; pid: number; start: number }
  | { t: "knob"; path: string; orig: string }
  | { t: "mount"; path: string }
  | { t: "clean" };
