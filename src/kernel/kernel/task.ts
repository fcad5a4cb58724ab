/**
 * task_struct, the parts the model needs: identity, mm, credentials and
 * limits, PF_* flags, pending signals, file table.
 */
import type { MmStruct } from "../mm/mm_types.js";

/** include/linux/sched.h: PF_MEMALLOC_PIN — allocations may not be movable */
export const PF_MEMALLOC_PIN = 0x10000000;
export const PF_EXITING = 0x4;

/** include/uapi/linux/capability.h */
export const CAP_IPC_LOCK = 14;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_NICE = 23;

/** An open file as the fd table holds it; the fs layer implements it. */
export interface FileRef {
  readonly kind: string;
  /** fput(): the last descriptor for it was closed */
  release(): void;
  /** get_file() for fork's dup_fd(): the same open file, one more holder */
  dup?(): FileRef;
}

export class Task {
  flags = 0;
  /** SIGKILL pending (fatal_signal_pending()) */
  fatalSignal = false;
  /** a non-fatal signal pending (signal_pending()) */
  signalPending = false;
  state: "running" | "zombie" = "running";
  /**
   * numa_node_id() of the CPU the task runs on: the node its allocations
   * prefer (the default mempolicy, MPOL_LOCAL). The model does not migrate
   * tasks between CPUs; a child inherits its parent's.
   */
  numa_node = 0;
  exitCode = 0;
  readonly files = new Map<number, FileRef>();
  readonly caps: Set<number>;
  children: Task[] = [];
  constructor(
    readonly pid: number,
    readonly name: string,
    public mm: MmStruct | null,
    public uid: number,
    caps: Iterable<number>,
    /** RLIMIT_MEMLOCK soft limit, bytes */
    public rlimitMemlock: number,
    public parent: Task | null,
  ) {
    this.caps = new Set(caps);
  }
  capable(cap: number): boolean {
    return this.caps.has(cap);
  }
  /** get_unused_fd_flags(): the lowest free descriptor */
  allocFd(f: FileRef): number {
    let fd = 0;
    while (this.files.has(fd)) fd++;
    this.files.set(fd, f);
    return fd;
  }
}
