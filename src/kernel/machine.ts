/**
 * Machine: a booted model kernel and its syscall surface. Methods take the
 * calling process's pid first and return `≥ 0 | -errno` like the kernel.
 * API misuse (an unknown pid, a non-integer address) throws PinlabError.
 */
import { type MachineConfig, type MachineConfigInput, resolveConfig } from "./config.js";
import { PinlabError } from "./errors.js";
import { EBADF, EFAULT, EINVAL, ENOENT } from "./include/errno.js";
import { MIGRATETYPE_NAMES, PAGE_SIZE, ZONE_NAMES } from "./include/mmzone.js";
import { PG } from "./include/page_flags.js";
import { PTE } from "./include/pgtable.js";
import { Kernel } from "./kernel.js";
import { do_exit } from "./kernel/exit.js";
import { do_fork } from "./kernel/fork.js";
import { CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_PTRACE, Task } from "./kernel/task.js";
import type { OpenFile } from "./fs/file.js";
import {
  do_mount,
  lookup_inode,
  memfd_create,
  sys_close,
  sys_fallocate,
  sys_fsync,
  sys_ftruncate,
  sys_mkdir,
  sys_open,
  sys_pread64,
  sys_pwrite64,
  sys_read,
  sys_unlink,
  sys_write,
  WB_SYNC_ALL,
} from "./fs/index.js";
import { memfd_secret } from "./mm/secretmem.js";
import { open_pfnmap_device } from "./drivers/pfnmap_dev.js";
import { writeback_inode } from "./mm/page_writeback.js";
import { folio_maybe_dma_pinned, folio_pincount, folio_mapcount } from "./mm/folio.js";
import { do_madvise } from "./mm/madvise.js";
import { do_mlock, do_mlockall, do_munlock, do_munlockall } from "./mm/mlock.js";
import { do_mmap, do_mprotect, do_munmap } from "./mm/mmap.js";
import { do_mremap } from "./mm/mremap.js";
import { MmStruct } from "./mm/mm_types.js";
import { LEVEL_NONE, walk_addr } from "./mm/pagewalk.js";
import { mark_accessed, user_access } from "./mm/user_access.js";
import { page_mapcount } from "./mm/rmap.js";
import { uffdio_move } from "./mm/userfaultfd.js";
import { ksm_scan } from "./mm/ksm.js";
import { deferred_split_scan } from "./mm/huge_memory.js";

/** mmap_base of new processes (a fixed layout: the model has no ASLR). */
export const MMAP_BASE = 0x7f0000000000;
/** A character device whose mmap() maps device memory with remap_pfn_range(). */
export const PFNMAP_DEVICE_PATH = "/dev/pfnmap";

export interface SpawnOptions {
  uid?: number;
  /** capabilities; default: root's full set (CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_PTRACE) */
  caps?: number[];
  /** RLIMIT_MEMLOCK in bytes; default the machine's memlockLimit */
  memlock?: number;
}

/** What a page looks like, for assertions and the CLI. */
export interface PageInfo {
  pfn: number;
  folio: number;
  order: number;
  zone: string;
  migratetype: string;
  refcount: number;
  mapcount: number;
  pincount: number;
  maybeDmaPinned: boolean;
  anon: boolean;
  anonExclusive: boolean;
  dirty: boolean;
  writeback: boolean;
  hugetlb: boolean;
  zeroPage: boolean;
  content: number;
}

export class Machine {
  readonly k: Kernel;
  readonly config: MachineConfig;

  constructor(config: MachineConfigInput = {}) {
    this.config = resolveConfig(config);
    this.k = new Kernel(this.config);
  }

  // --- processes ---------------------------------------------------------------
  /** Create a process with an empty address space; returns its pid. */
  spawn(name: string, opts: SpawnOptions = {}): number {
    const k = this.k;
    const mm = new MmStruct(k.newId("mm"), MMAP_BASE);
    const caps = opts.caps ?? [CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_PTRACE];
    const t = new Task(
      k.newId("pid"),
      name,
      mm,
      opts.uid ?? 0,
      caps,
      opts.memlock ?? this.config.memlockLimit,
      null,
    );
    k.tasks.set(t.pid, t);
    return t.pid;
  }

  task(pid: number): Task {
    const t = this.k.tasks.get(pid);
    if (!t) throw new PinlabError(`no process with pid ${pid}; spawn() it first`);
    return t;
  }

  private live(pid: number): Task {
    const t = this.task(pid);
    if (t.state !== "running" || !t.mm) throw new PinlabError(`process ${t.name} (pid ${pid}) has exited`);
    return t;
  }

  private run<T>(pid: number, fn: (t: Task) => T): T {
    const t = this.live(pid);
    return this.k.asTask(t, () => fn(t));
  }

  private static num(name: string, v: number): void {
    if (!Number.isFinite(v) || !Number.isInteger(v))
      throw new PinlabError(`${name} must be an integer (got ${v})`);
  }

  /** fork(): the child's pid or -errno. */
  fork(pid: number, childName?: string): number {
    const parent = this.live(pid);
    const r = do_fork(this.k, parent, childName ?? `${parent.name}-child`);
    return typeof r === "number" ? r : r.pid;
  }

  /** exit(): the process's mm and files are released. */
  exit(pid: number, code = 0): number {
    const t = this.live(pid);
    do_exit(this.k, t, code);
    return 0;
  }

  // --- memory syscalls -----------------------------------------------------------
  mmap(pid: number, addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
    for (const [n, v] of Object.entries({ addr, len, prot, flags, fd, off })) Machine.num(n, v);
    return this.run(pid, (t) => {
      let file: OpenFile | null = null;
      if (fd >= 0) {
        const f = t.files.get(fd);
        if (f) file = f as OpenFile;
      }
      if (!file && fd >= 0 && !(flags & 0x20)) return -EBADF;
      return do_mmap(this.k, t, addr, len, prot, flags, file, off);
    });
  }
  munmap(pid: number, addr: number, len: number): number {
    return this.run(pid, (t) => do_munmap(this.k, t.mm!, addr, len));
  }
  mprotect(pid: number, addr: number, len: number, prot: number): number {
    return this.run(pid, (t) => do_mprotect(this.k, t.mm!, addr, len, prot));
  }
  madvise(pid: number, addr: number, len: number, advice: number): number {
    return this.run(pid, (t) => do_madvise(this.k, t.mm!, addr, len, advice));
  }
  mremap(pid: number, addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    return this.run(pid, (t) => do_mremap(this.k, t.mm!, addr, oldLen, newLen, flags, newAddr));
  }
  mlock(pid: number, addr: number, len: number): number {
    return this.run(pid, (t) => do_mlock(this.k, t, addr, len, 0));
  }
  mlock2(pid: number, addr: number, len: number, flags: number): number {
    return this.run(pid, (t) => do_mlock(this.k, t, addr, len, flags));
  }
  munlock(pid: number, addr: number, len: number): number {
    return this.run(pid, (t) => do_munlock(this.k, t, addr, len));
  }
  mlockall(pid: number, flags: number): number {
    return this.run(pid, (t) => do_mlockall(this.k, t, flags));
  }
  munlockall(pid: number): number {
    return this.run(pid, (t) => do_munlockall(this.k, t));
  }

  /** ioctl(UFFDIO_MOVE): 0 or -errno; bytes moved before a failure are in the trace event. */
  uffdio_move(pid: number, dst: number, src: number, len: number, mode = 0): number {
    return this.run(pid, (t) => uffdio_move(this.k, t.mm!, dst, src, len, mode).ret);
  }

  // --- files ---------------------------------------------------------------------
  /** mount(kind, path): ext4, xfs, btrfs, tmpfs, hugetlbfs, fsdax. 0 or -errno. */
  mount(kind: string, path: string, opts: { pagesize?: number } = {}): number {
    return do_mount(this.k, kind, path, opts);
  }
  mkdir(pid: number, path: string): number {
    return this.run(pid, (t) => sys_mkdir(this.k, t, path));
  }
  unlink(pid: number, path: string): number {
    return this.run(pid, (t) => sys_unlink(this.k, t, path));
  }
  /**
   * open(path, flags): files on mounted file systems, plus the model's device
   * PFNMAP_DEVICE_PATH, whose mmap() is remap_pfn_range() (VM_IO|VM_PFNMAP).
   */
  open(pid: number, path: string, flags: number, mode = 0o644): number {
    if (path === PFNMAP_DEVICE_PATH) return this.run(pid, (t) => t.allocFd(open_pfnmap_device(flags)));
    return this.run(pid, (t) => sys_open(this.k, t, path, flags, mode));
  }
  close(pid: number, fd: number): number {
    return this.run(pid, (t) => sys_close(this.k, t, fd));
  }
  /** read(fd, len): the content word of the first page read (0 at EOF), or -errno. */
  read(pid: number, fd: number, len: number): number {
    return this.run(pid, (t) => sys_read(this.k, t, fd, len));
  }
  /** write(fd, value, len): value into every page of the range; bytes written or -errno. */
  write(pid: number, fd: number, value: number, len: number): number {
    return this.run(pid, (t) => sys_write(this.k, t, fd, value, len));
  }
  pread(pid: number, fd: number, len: number, off: number): number {
    return this.run(pid, (t) => sys_pread64(this.k, t, fd, len, off));
  }
  pwrite(pid: number, fd: number, value: number, len: number, off: number): number {
    return this.run(pid, (t) => sys_pwrite64(this.k, t, fd, value, len, off));
  }
  ftruncate(pid: number, fd: number, len: number): number {
    return this.run(pid, (t) => sys_ftruncate(this.k, t, fd, len));
  }
  fallocate(pid: number, fd: number, mode: number, off: number, len: number): number {
    return this.run(pid, (t) => sys_fallocate(this.k, t, fd, mode, off, len));
  }
  fsync(pid: number, fd: number): number {
    return this.run(pid, (t) => sys_fsync(this.k, t, fd));
  }
  memfd_create(pid: number, name: string, flags: number): number {
    return this.run(pid, (t) => memfd_create(this.k, t, name, flags));
  }
  memfd_secret(pid: number, flags: number): number {
    return this.run(pid, (t) => memfd_secret(this.k, t, flags));
  }

  // --- kernel-side actors ------------------------------------------------------
  /** "kernel: writeback(/data/f)": write the file's dirty pages back now. */
  writeback(path: string): number {
    const inode = lookup_inode(this.k, path);
    if (!inode) return -ENOENT;
    return writeback_inode(this.k, inode, { sync_mode: WB_SYNC_ALL });
  }
  /** One full ksmd pass; returns pages merged. */
  ksm_scan(): number {
    return ksm_scan(this.k);
  }
  /** The deferred-split shrinker; returns THPs split. */
  deferred_split_scan(): number {
    return deferred_split_scan(this.k);
  }

  // --- user memory access ---------------------------------------------------------
  /** A user store of `value` into every page of [addr, addr+len); 0 or -EFAULT. */
  memset(pid: number, addr: number, value: number, len: number): number {
    Machine.num("addr", addr);
    Machine.num("len", len);
    if (len < 0) return -EINVAL;
    return this.run(pid, (t) => {
      const end = addr + len;
      for (let a = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE; a < end; a += PAGE_SIZE) {
        const pfn = user_access(this.k, t.mm!, a, true);
        if (pfn < 0) return pfn;
        this.k.memmap.setContent(pfn, value);
        mark_accessed(t.mm!, a, true);
      }
      return 0;
    });
  }
  /** store(addr, v): one user write to the page holding addr. */
  store(pid: number, addr: number, value: number): number {
    return this.memset(pid, addr, value, 1);
  }
  /** load(addr): a user read (faulting the page in); the page's content or -EFAULT. */
  load(pid: number, addr: number): number {
    Machine.num("addr", addr);
    return this.run(pid, (t) => {
      const pfn = user_access(this.k, t.mm!, addr, false);
      if (pfn < 0) return pfn;
      mark_accessed(t.mm!, addr, false);
      return this.k.memmap.content(pfn);
    });
  }

  /** Observe what addr maps to right now, without faulting: the pfn or -EFAULT. */
  translate(pid: number, addr: number): number {
    const t = this.task(pid);
    if (!t.mm) return -EFAULT;
    const w = walk_addr(t.mm, addr);
    if (w.level === LEVEL_NONE || !(w.bits & PTE.PRESENT)) return -EFAULT;
    return w.pfn;
  }

  /** The content a process would see at addr, without faulting (unmapped anon reads as 0). */
  peek(pid: number, addr: number): number {
    const pfn = this.translate(pid, addr);
    if (pfn < 0) {
      const t = this.task(pid);
      return t.mm?.vma_lookup(addr) ? 0 : -EFAULT;
    }
    return this.k.memmap.content(pfn);
  }

  /** Is the PTE/PMD mapping addr writable? (pagemap-style observation) */
  writable(pid: number, addr: number): boolean {
    const t = this.task(pid);
    if (!t.mm) return false;
    const w = walk_addr(t.mm, addr);
    return w.level !== LEVEL_NONE && (w.bits & PTE.WRITE) !== 0;
  }

  /** Everything a test or the CLI may ask about one page. */
  page(pfn: number): PageInfo {
    const k = this.k;
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= k.memmap.nrPages)
      throw new PinlabError(`page(${pfn}): no such pfn on a machine of ${k.memmap.nrPages} pages`);
    const folio = k.memmap.head(pfn);
    const order = k.memmap.order(folio);
    return {
      pfn,
      folio,
      order,
      zone: ZONE_NAMES[k.pa.zoneIdOf(pfn)],
      migratetype: MIGRATETYPE_NAMES[k.pa.get_pageblock_migratetype(pfn)],
      refcount: k.memmap.refcount(folio),
      mapcount: order ? folio_mapcount(k, folio) : page_mapcount(k, pfn),
      pincount: order ? folio_pincount(k, folio) : 0,
      maybeDmaPinned: folio_maybe_dma_pinned(k, folio),
      anon: k.memmap.test(folio, PG.anon),
      anonExclusive: k.memmap.test(k.memmap.test(folio, PG.hugetlb) ? folio : pfn, PG.anon_exclusive),
      dirty: k.memmap.test(folio, PG.dirty),
      writeback: k.memmap.test(folio, PG.writeback),
      hugetlb: k.memmap.test(folio, PG.hugetlb),
      zeroPage: pfn === k.zeroPfn || folio === k.hugeZeroPfn,
      content: k.memmap.content(pfn),
    };
  }

  /** /proc/PID/status VmPin and VmLck, in kB. */
  status(pid: number): { VmPin: number; VmLck: number; VmRSS: number } {
    const mm = this.task(pid).mm;
    if (!mm) return { VmPin: 0, VmLck: 0, VmRSS: 0 };
    const kb = PAGE_SIZE / 1024;
    return {
      VmPin: mm.pinned_vm * kb,
      VmLck: mm.locked_vm * kb,
      VmRSS: (mm.rss.anon + mm.rss.file + mm.rss.shmem) * kb,
    };
  }

  /** Bytes of model metadata: memmap chunks plus every process's page tables. */
  metadataBytes(): number {
    let b = this.k.memmap.bytesAllocated();
    const seen = new Set<MmStruct>();
    for (const t of this.k.tasks.values()) {
      if (!t.mm || seen.has(t.mm)) continue;
      seen.add(t.mm);
      b += t.mm.pgtables.bytes();
    }
    return b;
  }
}
