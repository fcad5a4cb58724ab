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
import {
  CAP_IPC_LOCK,
  CAP_SYS_ADMIN,
  CAP_SYS_NICE,
  CAP_SYS_PTRACE,
  type FileRef,
  Task,
} from "./kernel/task.js";
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
  sys_read,
  sys_unlink,
  sys_write,
  WB_SYNC_ALL,
} from "./fs/index.js";
import { memfd_secret } from "./mm/secretmem.js";
import { open_pfnmap_device } from "./drivers/pfnmap_dev.js";
import { read_to_user, write_from_user } from "./drivers/direct_io.js";
import { do_pipe, pipe_read, PipeEnd, vmsplice } from "./drivers/pipe.js";
import { process_vm_rw } from "./drivers/process_vm.js";
import {
  proc_mem_open,
  proc_mem_read,
  proc_mem_target,
  proc_mem_write,
  ProcMemFile,
} from "./drivers/proc_mem.js";
import {
  io_uring_buffer,
  io_uring_register_buffers,
  io_uring_unregister_buffers,
} from "./drivers/io_uring.js";
import { pin_table, type PinRecord } from "./drivers/pin_table.js";
import { driver_gup, driver_release, GUP_APIS, type GupApi } from "./drivers/pin_user.js";
import { dma_read, dma_write } from "./drivers/device.js";
import { vfio_dma_record, vfio_iommu_map_dma, vfio_iommu_unmap_dma } from "./drivers/vfio.js";
import {
  ib_umem_get,
  ib_umem_odp_get,
  ib_umem_release,
  odp_resolve,
  type IbUmem,
  type OdpUmem,
} from "./drivers/rdma.js";
import { xdp_umem_reg, xdp_umem_release, type XdpUmem } from "./drivers/xdp.js";
import { kvm_read_guest, kvm_write_guest } from "./drivers/kvm.js";
import { cma_alloc, cma_release, type CmaAllocResult } from "./mm/cma.js";
import { offline_pages, type OfflineResult } from "./mm/memory_hotplug.js";
import { migrate_folio_out } from "./mm/migrate.js";
import { kernel_move_pages } from "./mm/move_pages.js";
import { memfd_pin_folios } from "./mm/gup_memfd.js";
import { compact_node, type CompactResult } from "./mm/compaction.js";
import { reclaim_all, type ReclaimResult } from "./mm/vmscan.js";
import { FsFile } from "./fs/open.js";
import { block_read_backing, is_blockfs_type } from "./fs/blockfs.js";
import { inode_by_id } from "./fs/inode.js";
import { i_size_pages, page_cache_lookup } from "./mm/filemap.js";
import { NIL } from "./mm/memmap.js";
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

/** The terminal behind fds 0–2 of every spawned process. */
const TTY: FileRef = { kind: "tty", release: () => {}, dup: () => TTY };

export interface SpawnOptions {
  uid?: number;
  /** capabilities; default: root's full set (CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_NICE) */
  caps?: number[];
  /** RLIMIT_MEMLOCK in bytes; default the machine's memlockLimit */
  memlock?: number;
  /** the NUMA node the process runs on (numa_node_id()), 0 … nodes-1; default 0 */
  node?: number;
}

/** What a page looks like, for assertions and the CLI. */
export interface PageInfo {
  pfn: number;
  folio: number;
  order: number;
  /** page_to_nid() */
  node: number;
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
    const node = opts.node ?? 0;
    if (!Number.isInteger(node) || node < 0 || node >= this.config.nodes)
      throw new PinlabError(
        `spawn(${name}): node=${node} but the machine has ${this.config.nodes} node(s), 0 … ${this.config.nodes - 1}; pick one of them or raise machine nodes=`,
      );
    const caps = opts.caps ?? [CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_NICE];
    const t = new Task(
      k.newId("pid"),
      name,
      mm,
      opts.uid ?? 0,
      caps,
      opts.memlock ?? this.config.memlockLimit,
      null,
    );
    t.numa_node = node;
    // stdin, stdout and stderr: a process's first open() returns 3
    for (let fd = 0; fd < 3; fd++) t.allocFd(TTY);
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
    const target = proc_mem_target(path, pid);
    if (target !== null) return this.run(pid, (t) => proc_mem_open(this.k, t, target, flags));
    return this.run(pid, (t) => sys_open(this.k, t, path, flags, mode));
  }
  close(pid: number, fd: number): number {
    return this.run(pid, (t) => sys_close(this.k, t, fd));
  }
  /**
   * read(fd, len): the content word of the first page read (0 at EOF), or
   * -errno — the model's read returns the data (DESIGN.md). Pipes too.
   */
  read(pid: number, fd: number, len: number): number {
    return this.run(pid, (t) => {
      const f = t.files.get(fd);
      if (f instanceof PipeEnd) return pipe_read(this.k, t, fd, len);
      return sys_read(this.k, t, fd, len);
    });
  }
  /** write(fd, buf, len): from the user buffer at buf; O_DIRECT pins it. Bytes or -errno. */
  write(pid: number, fd: number, buf: number, len: number): number {
    return this.run(pid, (t) => write_from_user(this.k, t, fd, buf, len, null));
  }
  /** write_value(fd, value, len): a write whose every page holds value (no user buffer). */
  write_value(pid: number, fd: number, value: number, len: number): number {
    return this.run(pid, (t) => sys_write(this.k, t, fd, value, len));
  }
  /** pread(fd, buf, len, off): into the user buffer; /proc/PID/mem reads the target at off. */
  pread(pid: number, fd: number, buf: number, len: number, off: number): number {
    return this.run(pid, (t) => {
      const f = t.files.get(fd);
      if (f instanceof ProcMemFile) return proc_mem_read(this.k, t, f, buf, len, off);
      return read_to_user(this.k, t, fd, buf, len, off);
    });
  }
  /** pwrite(fd, buf, len, off): from the user buffer; /proc/PID/mem writes the target at off. */
  pwrite(pid: number, fd: number, buf: number, len: number, off: number): number {
    return this.run(pid, (t) => {
      const f = t.files.get(fd);
      if (f instanceof ProcMemFile) return proc_mem_write(this.k, t, f, buf, len, off);
      return write_from_user(this.k, t, fd, buf, len, off);
    });
  }
  /** pipe2(): [read fd, write fd]. */
  pipe(pid: number): [number, number] {
    return this.run(pid, (t) => do_pipe(this.k, t));
  }
  /** vmsplice(fd, buf, len, flags): FOLL_GET references into the pipe; bytes or -errno. */
  vmsplice(pid: number, fd: number, buf: number, len: number, flags: number): number {
    return this.run(pid, (t) => vmsplice(this.k, t, fd, buf, len, flags));
  }
  /** process_vm_readv(target, local, llen, remote, rlen, flags): one iovec each. */
  process_vm_readv(
    pid: number,
    target: number,
    local: number,
    llen: number,
    remote: number,
    rlen: number,
    flags: number,
  ): number {
    return this.run(pid, (t) => process_vm_rw(this.k, t, target, local, llen, remote, rlen, flags, false));
  }
  process_vm_writev(
    pid: number,
    target: number,
    local: number,
    llen: number,
    remote: number,
    rlen: number,
    flags: number,
  ): number {
    return this.run(pid, (t) => process_vm_rw(this.k, t, target, local, llen, remote, rlen, flags, true));
  }
  /** IORING_REGISTER_BUFFERS with one iovec; 0 or -errno. The pin is io_uring_buffer(pid, 0). */
  io_uring_register_buffers(pid: number, buf: number, len: number): number {
    return this.run(pid, (t) => io_uring_register_buffers(this.k, t, [{ base: buf, len }]));
  }
  io_uring_unregister_buffers(pid: number): number {
    return this.run(pid, (t) => io_uring_unregister_buffers(this.k, t));
  }
  /** The pin record behind registered buffer `index` of the process's ring, for the device. */
  io_uring_buffer(pid: number, index = 0): PinRecord | null {
    return io_uring_buffer(this.task(pid), index)?.rec ?? null;
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
  /**
   * A GUP call made by a driver or the kernel (`vfio: p = pin_user_pages_remote(A, …)`):
   * runs in the caller's context on the target's memory and records the pin.
   */
  gup(
    owner: string,
    api: GupApi,
    callerPid: number,
    targetPid: number,
    start: number,
    nrPages: number,
    flags: number,
  ): { ret: number; pin: PinRecord | null } {
    Machine.num("start", start);
    Machine.num("nrPages", nrPages);
    if (!GUP_APIS.includes(api))
      throw new PinlabError(`gup: unknown entry point ${api}; expected one of ${GUP_APIS.join(", ")}`);
    const caller = this.live(callerPid);
    const target = this.live(targetPid);
    const { ret, rec } = driver_gup(this.k, { owner, api, caller, target, start, nrPages, flags });
    return { ret, pin: rec };
  }
  /** unpin_user_pages() (or _dirty_lock when dirty) / put_page() of everything a pin holds. */
  unpin(pin: PinRecord, dirty = false): void {
    driver_release(this.k, pin, dirty);
  }
  /** The device writes value through the pin (pages [first, first+nr)). */
  dma_write(pin: PinRecord, value: number, first = 0, nr = pin.pages.length): number {
    return dma_write(this.k, pin, value, first, nr);
  }
  /** The device reads page `index` of the pin. */
  dma_read(pin: PinRecord, index = 0): number {
    return dma_read(this.k, pin, index);
  }
  /** VFIO_IOMMU_MAP_DMA on the process's container; 0 or -errno. */
  vfio_map_dma(pid: number, vaddr: number, iova: number, size: number, flags: number): number {
    return this.run(pid, (t) => vfio_iommu_map_dma(this.k, t, vaddr, iova, size, flags));
  }
  /** VFIO_IOMMU_UNMAP_DMA: bytes unmapped. */
  vfio_unmap_dma(pid: number, iova: number, size: number): number {
    return this.run(pid, (t) => vfio_iommu_unmap_dma(this.k, t, iova, size));
  }
  vfio_pin(pid: number, iova: number): PinRecord | null {
    return vfio_dma_record(this.task(pid), iova);
  }
  /** ib_reg_mr → ib_umem_get(): the umem or -errno. */
  rdma_reg_mr(pid: number, addr: number, size: number, access: number): IbUmem | number {
    return this.run(pid, (t) => ib_umem_get(this.k, t, addr, size, access));
  }
  rdma_dereg_mr(umem: IbUmem): void {
    ib_umem_release(this.k, umem);
  }
  /** An on-demand-paging MR: no pin. */
  rdma_reg_odp_mr(pid: number, addr: number, size: number, access: number): OdpUmem {
    return this.run(pid, (t) => ib_umem_odp_get(this.k, t, addr, size, access));
  }
  /** The device writes through an ODP MR: resolves the current page (faulting it in). */
  odp_dma_write(odp: OdpUmem, index: number, value: number): number {
    const pfn = odp_resolve(this.k, odp, index);
    if (pfn < 0) return pfn;
    this.k.memmap.setContent(pfn, value);
    return 0;
  }
  odp_dma_read(odp: OdpUmem, index: number): number {
    const pfn = odp_resolve(this.k, odp, index);
    return pfn < 0 ? pfn : this.k.memmap.content(pfn);
  }
  /** XDP_UMEM_REG: the umem or -errno. */
  xdp_umem_reg(pid: number, addr: number, size: number): XdpUmem | number {
    return this.run(pid, (t) => xdp_umem_reg(this.k, t, addr, size));
  }
  xdp_umem_release(umem: XdpUmem): void {
    xdp_umem_release(this.k, umem);
  }
  /** KVM: the guest writes/reads guest memory backed by the VMM process at hva. */
  kvm_write_guest(pid: number, hva: number, value: number): number {
    return kvm_write_guest(this.k, this.live(pid), hva, value);
  }
  kvm_read_guest(pid: number, hva: number): number {
    return kvm_read_guest(this.k, this.live(pid), hva);
  }
  /** cma_alloc(count pages, 2^align alignment) from the default area. */
  cma_alloc(count: number, align = 0): CmaAllocResult {
    return cma_alloc(this.k, count, align, migrate_folio_out);
  }
  cma_release(pfn: number, count: number): boolean {
    return cma_release(this.k, pfn, count);
  }
  /** offline_pages(): the kernel retries forever; the model stops after retryBudget passes. */
  offline_pages(startPfn: number, nrPages: number, retryBudget = 1000): OfflineResult {
    return offline_pages(this.k, startPfn, nrPages, retryBudget, migrate_folio_out);
  }
  /**
   * move_pages(2): move `pages` of process `target` (0: the caller) to
   * `nodes[i]`, or, with nodes === null, write each page's node into
   * `status` (mm/migrate.c: kernel_move_pages()). `status` is the caller's
   * array: entries the kernel does not write keep their value (fill it with
   * MOVE_PAGES_STATUS_UNSET to see which). Returns 0, the number of pages
   * not migrated, or -errno (see kernel_move_pages()).
   */
  sys_move_pages(
    pid: number,
    target: number,
    pages: readonly number[],
    nodes: readonly number[] | null,
    status: Int32Array,
    flags: number,
  ): number {
    pages.forEach((p, i) => Machine.num(`move_pages: pages[${i}]`, p));
    if (nodes && nodes.length !== pages.length)
      throw new PinlabError(
        `move_pages: ${pages.length} pages but ${nodes.length} nodes; give one node per page or null to query`,
      );
    if (status.length < pages.length)
      throw new PinlabError(`move_pages: status has ${status.length} entries for ${pages.length} pages`);
    const caller = this.live(pid);
    return kernel_move_pages(this.k, caller, target, pages, nodes, status, flags);
  }
  /** move_pages(2) of one page to `node`: the syscall's return value (its status is dropped). */
  move_pages(pid: number, target: number, addr: number, node: number, flags: number): number {
    return this.sys_move_pages(pid, target, [addr], [node], new Int32Array(1), flags);
  }
  /** memfd_pin_folios() by a kernel actor (udmabuf): the folios pinned, recorded as one pin. */
  memfd_pin_folios(
    owner: string,
    pid: number,
    fd: number,
    start: number,
    end: number,
    maxFolios: number,
  ): { ret: number; pin: PinRecord | null } {
    const t = this.live(pid);
    const f = t.files.get(fd);
    const folios = new Int32Array(Math.max(0, maxFolios));
    const off = { value: 0 };
    const ret = this.k.asTask(t, () =>
      memfd_pin_folios(this.k, f instanceof FsFile ? f : null, start, end, folios, maxFolios, off),
    );
    if (ret <= 0) return { ret, pin: null };
    const pin = pin_table(this.k).add({
      owner,
      api: "memfd_pin_folios",
      flags: 0,
      pid,
      start,
      nrPages: ret,
      pages: folios.slice(0, ret),
      kind: "pin",
      longterm: true,
    });
    return { ret, pin };
  }

  /** Every live pin or reference a driver or the kernel holds. */
  pins(): PinRecord[] {
    return pin_table(this.k).live();
  }

  /** "kernel: reclaim()": one shrink_folio_list() pass over every LRU folio (no swap). */
  reclaim(): ReclaimResult {
    return reclaim_all(this.k);
  }

  /** compact_node(): one compaction pass over every zone. */
  compact(): CompactResult {
    return compact_node(this.k);
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
    if (pfn >= 0) return this.k.memmap.content(pfn);
    const vma = this.task(pid).mm?.vma_lookup(addr);
    if (!vma) return -EFAULT;
    // Not mapped: what a read would see once it faulted the page in (the observer changes
    // nothing). Anonymous memory reads zeroes; a file page comes from the page cache, or
    // from the disk (a hole or shmem: zeroes); beyond EOF the fault is SIGBUS
    // (mm/filemap.c: filemap_fault() → VM_FAULT_SIGBUS).
    if (!vma.vm_file || vma.isHugetlb()) return 0;
    const inode = inode_by_id(this.k, vma.vm_file.inodeId);
    if (!inode) return 0;
    const index = vma.pgoffOf(addr);
    if (index >= i_size_pages(inode)) return -EFAULT;
    const folio = page_cache_lookup(inode.mapping, index);
    if (folio !== NIL) return this.k.memmap.content(folio + (index - this.k.memmap.index(folio)));
    return is_blockfs_type(inode.sb.type) ? block_read_backing(inode, index) : 0;
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
      node: k.pa.page_to_nid(pfn),
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
