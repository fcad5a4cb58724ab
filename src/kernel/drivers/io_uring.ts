/**
 * io_uring fixed buffers (io_uring/rsrc.c: io_sqe_buffers_register(),
 * io_sqe_buffer_register(), io_buffer_account_pin(), io_coalesce_buffer();
 * io_uring/memmap.c: io_pin_pages()). Registration pins every page with
 * pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM): a long-term, writable pin.
 *
 * Accounting: pages count once per compound head (a 4 KiB buffer inside a
 * THP accounts the whole 2 MiB); mm->pinned_vm always grows (VmPin), and
 * user->locked_vm too — against RLIMIT_MEMLOCK, -ENOMEM beyond it — unless
 * the ring's creator had CAP_IPC_LOCK.
 *
 * The model gives each process one ring, created on first use, held in the
 * file table so that fork shares it and exit closes it.
 */
import { EBUSY, EFAULT, EINVAL, ENOMEM, ENXIO, EOVERFLOW } from "../include/errno.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel, UserStruct } from "../kernel.js";
import { CAP_IPC_LOCK, type FileRef, type Task } from "../kernel/task.js";
import type { MmStruct } from "../mm/mm_types.js";
import { unpin_user_folio } from "../mm/gup_refs.js";
import { driver_gup } from "./pin_user.js";
import type { PinRecord } from "./pin_table.js";

/** include/linux/sizes.h: SZ_1G, io_validate_user_buf_range()'s limit */
const SZ_1G = 1024 * 1024 * 1024;
/** IORING_MAX_REG_BUFFERS */
const IORING_MAX_REG_BUFFERS = 1 << 14;

export interface IoMappedUbuf {
  ubuf: number;
  len: number;
  /** every page of the buffer, for the device */
  rec: PinRecord;
  /** bvec pages: one per page, or one head per folio when coalesced */
  bvecs: number[];
  acctPages: number;
}

export class IoRing implements FileRef {
  readonly kind = "io_uring";
  bufTable: (IoMappedUbuf | null)[] | null = null;
  private refs = 1;
  constructor(
    private readonly k: Kernel,
    /** ctx->mm_account */
    readonly mmAccount: MmStruct,
    /** ctx->user, unless the creator had CAP_IPC_LOCK */
    readonly user: UserStruct | null,
    readonly memlockLimit: number,
  ) {}
  dup(): FileRef {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) io_sqe_buffers_unregister(this.k, this);
  }
}

/** The ring in the process's file table, if any (a forked child shares its parent's). */
function find_ring(task: Task): IoRing | null {
  for (const f of task.files.values()) if (f instanceof IoRing) return f;
  return null;
}

/** The process's ring (io_uring_setup() on first use). */
export function io_uring_ring(k: Kernel, task: Task): IoRing {
  let r = find_ring(task);
  if (!r) {
    const user = task.capable(CAP_IPC_LOCK) ? null : k.user(task.uid);
    r = new IoRing(k, task.mm!, user, task.rlimitMemlock);
    task.allocFd(r);
  }
  return r;
}

/** io_account_mem() */
function io_account_mem(ring: IoRing, nr: number): number {
  if (ring.user) {
    // __io_account_mem(): RLIMIT_MEMLOCK of the registering task, in pages
    const limit = Math.floor(ring.memlockLimit / PAGE_SIZE);
    if (ring.user.locked_vm + nr > limit) return -ENOMEM;
    ring.user.locked_vm += nr;
  }
  ring.mmAccount.pinned_vm += nr;
  return 0;
}

function io_unaccount_mem(ring: IoRing, nr: number): void {
  if (ring.user) ring.user.locked_vm -= nr;
  ring.mmAccount.pinned_vm -= nr;
}

/** io_validate_user_buf_range() / io_buffer_validate() */
function io_buffer_validate(base: number, len: number): number {
  if (!base) return len ? -EFAULT : 0;
  if (len > SZ_1G || !len) return -EFAULT;
  if (base + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE > 2 ** 64) return -EOVERFLOW;
  return 0;
}

/**
 * io_uring_register(IORING_REGISTER_BUFFERS) with iovecs. Returns 0 or
 * -errno; on failure everything registered so far is released.
 */
export function io_uring_register_buffers(
  k: Kernel,
  task: Task,
  iovs: { base: number; len: number }[],
): number {
  const ring = io_uring_ring(k, task);
  if (ring.bufTable) return -EBUSY;
  if (!iovs.length || iovs.length > IORING_MAX_REG_BUFFERS) return -EINVAL;
  const table: (IoMappedUbuf | null)[] = [];
  ring.bufTable = table;
  const lastHpage = { value: -1 };
  for (const iov of iovs) {
    let ret = io_buffer_validate(iov.base, iov.len);
    if (ret === 0) {
      const r = io_sqe_buffer_register(k, task, ring, iov.base, iov.len, lastHpage);
      if (typeof r === "number") ret = r;
      else table.push(r);
    }
    if (ret) {
      io_sqe_buffers_unregister(k, ring);
      k.trace.emit("io_uring_register_failed", "io_uring/rsrc.c: io_sqe_buffers_register()", {
        pid: task.pid,
        ret,
      });
      return ret;
    }
  }
  return 0;
}

function io_sqe_buffer_register(
  k: Kernel,
  task: Task,
  ring: IoRing,
  base: number,
  len: number,
  lastHpage: { value: number },
): IoMappedUbuf | number | null {
  if (!base) return null;
  // io_pin_pages()
  const start = Math.floor(base / PAGE_SIZE);
  const nr = Math.ceil((base + len) / PAGE_SIZE) - start;
  const { ret, rec } = driver_gup(k, {
    owner: "io_uring",
    api: "pin_user_pages_fast",
    caller: task,
    target: task,
    start: start * PAGE_SIZE,
    nrPages: nr,
    flags: FOLL_WRITE | FOLL_LONGTERM,
  });
  if (ret !== nr) {
    // partial map, or nothing: release what was pinned; 0 or short becomes -EFAULT
    if (rec) {
      rec.released = true;
      for (let i = 0; i < rec.pages.length; i++) unpin_user_folio(k, k.memmap.head(rec.pages[i]), 1);
    }
    return ret < 0 ? ret : -EFAULT;
  }
  const pages = Array.from(rec!.pages);
  // io_check_coalesce_buffer() / io_coalesce_buffer(): one pin per folio is kept
  let bvecs = pages;
  const coalesce = coalesce_plan(k, pages);
  if (coalesce) {
    bvecs = [];
    let j = 0;
    for (const n of coalesce) {
      const head = k.memmap.head(pages[j]);
      if (n > 1) unpin_user_folio(k, head, n - 1);
      bvecs.push(head);
      j += n;
    }
  }
  // io_buffer_account_pin()
  let acct = 0;
  for (let i = 0; i < bvecs.length; i++) {
    const p = bvecs[i];
    const head = k.memmap.head(p);
    const order = k.memmap.order(head);
    if (order === 0) {
      acct++;
      continue;
    }
    if (head === lastHpage.value) continue;
    lastHpage.value = head;
    if (headpage_already_acct(k, ring, bvecs, i, head)) continue;
    acct += 1 << order;
  }
  const a = acct ? io_account_mem(ring, acct) : 0;
  if (a) {
    rec!.released = true;
    for (const p of bvecs) unpin_user_folio(k, k.memmap.head(p), 1);
    return a;
  }
  k.trace.emit("io_uring_register", "io_uring/rsrc.c: io_sqe_buffer_register()", {
    pid: task.pid,
    pin: rec!.id,
    pages: nr,
    bvecs: bvecs.length,
    acct,
    // whose counters the charge went to (ctx->mm_account, ctx->user), for accounting observers
    mm: ring.mmAccount.id,
    uid: ring.user ? ring.user.uid : -1,
  });
  return { ubuf: base, len, rec: rec!, bvecs, acctPages: acct };
}

/** headpage_already_acct(): this compound head was accounted by an earlier bvec or buffer. */
function headpage_already_acct(
  k: Kernel,
  ring: IoRing,
  bvecs: number[],
  upto: number,
  head: number,
): boolean {
  for (let i = 0; i < upto; i++)
    if (k.memmap.order(k.memmap.head(bvecs[i])) > 0 && k.memmap.head(bvecs[i]) === head) return true;
  for (const imu of ring.bufTable ?? [])
    if (imu)
      for (const p of imu.bvecs)
        if (k.memmap.order(k.memmap.head(p)) > 0 && k.memmap.head(p) === head) return true;
  return false;
}

/**
 * io_check_coalesce_buffer(): pages contiguous inside large folios of one
 * size (head and tail partial) coalesce to one bvec per folio; returns the
 * page count per folio, or null when not coalescible or small folios.
 */
function coalesce_plan(k: Kernel, pages: number[]): number[] | null {
  if (pages.length < 2) return null;
  const mm = k.memmap;
  let folio = mm.head(pages[0]);
  const mid = 1 << mm.order(folio);
  if (mid === 1) return null;
  const counts: number[] = [];
  let count = 1;
  for (let i = 1; i < pages.length; i++) {
    if (mm.head(pages[i]) === folio && pages[i] === pages[i - 1] + 1) {
      count++;
      continue;
    }
    if (counts.length === 0) {
      if (pages[i - 1] - folio !== mid - 1) return null;
    } else if (count !== mid) return null;
    counts.push(count);
    folio = mm.head(pages[i]);
    if (1 << mm.order(folio) !== mid || pages[i] !== folio) return null;
    count = 1;
  }
  counts.push(count);
  return counts;
}

/** io_uring_register(IORING_UNREGISTER_BUFFERS): -ENXIO when nothing is registered. */
export function io_uring_unregister_buffers(k: Kernel, task: Task): number {
  const ring = find_ring(task);
  if (!ring || !ring.bufTable) return -ENXIO;
  io_sqe_buffers_unregister(k, ring);
  return 0;
}

/** io_sqe_buffers_unregister() → io_release_ubuf(): unpin one reference per bvec, unaccount. */
function io_sqe_buffers_unregister(k: Kernel, ring: IoRing): void {
  const table = ring.bufTable;
  if (!table) return;
  ring.bufTable = null;
  for (const imu of table) {
    if (!imu) continue;
    for (const p of imu.bvecs) unpin_user_folio(k, k.memmap.head(p), 1);
    imu.rec.released = true;
    if (imu.acctPages) io_unaccount_mem(ring, imu.acctPages);
    k.trace.emit("io_uring_unregister", "io_uring/rsrc.c: io_release_ubuf()", {
      pin: imu.rec.id,
      pages: imu.rec.pages.length,
    });
  }
}

/** The registered buffer covering the pin record, for the device (WRITE_FIXED / READ_FIXED). */
export function io_uring_buffer(task: Task, index: number): IoMappedUbuf | null {
  return find_ring(task)?.bufTable?.[index] ?? null;
}
