/**
 * Pipes and vmsplice() (fs/pipe.c, fs/splice.c: vmsplice_to_pipe(),
 * iter_to_pipe()). vmsplice of user memory into a pipe takes FOLL_GET
 * references with get_user_pages_fast() (through iov_iter_get_pages2()) —
 * not pins — and the pipe buffers keep them until read. The reader sees the
 * page as it is at read time, which is what makes the fork/COW rules for
 * references (P10) observable. Capacity is the default 16 buffers.
 */
import { EAGAIN, EBADF, EFAULT, EINVAL } from "../include/errno.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import type { FileRef, Task } from "../kernel/task.js";
import { copy_to_user } from "./direct_io.js";
import { driver_gup } from "./pin_user.js";
import { put_page } from "../mm/gup_refs.js";
import type { PinRecord } from "./pin_table.js";

/** PIPE_DEF_BUFFERS */
export const PIPE_DEF_BUFFERS = 16;

interface PipeBuffer {
  /** a spliced user page (held by a reference), or copied data */
  page: number;
  rec: PinRecord | null;
  index: number;
  copied: number;
}

export class Pipe {
  readonly bufs: PipeBuffer[] = [];
  readers = 0;
  writers = 0;
}

export class PipeEnd implements FileRef {
  readonly kind = "pipe";
  private refs = 1;
  constructor(
    private readonly k: Kernel,
    readonly pipe: Pipe,
    readonly end: "r" | "w",
  ) {
    if (end === "r") pipe.readers++;
    else pipe.writers++;
  }
  dup(): FileRef {
    this.refs++;
    if (this.end === "r") this.pipe.readers++;
    else this.pipe.writers++;
    return this;
  }
  release(): void {
    if (this.end === "r") this.pipe.readers--;
    else this.pipe.writers--;
    if (--this.refs > 0) return;
    if (this.pipe.readers + this.pipe.writers === 0) free_pipe_info(this.k, this.pipe);
  }
}

/** pipe2(): [read fd, write fd]. */
export function do_pipe(k: Kernel, task: Task): [number, number] {
  const p = new Pipe();
  const r = task.allocFd(new PipeEnd(k, p, "r"));
  const w = task.allocFd(new PipeEnd(k, p, "w"));
  return [r, w];
}

function pipeOf(task: Task, fd: number): PipeEnd | number {
  const f = task.files.get(fd);
  if (!f) return -EBADF;
  return f instanceof PipeEnd ? f : -EBADF;
}

/**
 * vmsplice(fd, iov = {addr, len}, flags) on a pipe's write end: bytes
 * spliced, -EAGAIN when the pipe is full (the model cannot block).
 */
export function vmsplice(
  k: Kernel,
  task: Task,
  fd: number,
  addr: number,
  len: number,
  flags: number,
): number {
  const e = pipeOf(task, fd);
  if (typeof e === "number") return e;
  if (flags & ~0xf) return -EINVAL;
  if (e.end === "r") return vmsplice_to_user(k, task, e.pipe, addr, len);
  const pipe = e.pipe;
  const room = PIPE_DEF_BUFFERS - pipe.bufs.length;
  if (room <= 0) return -EAGAIN;
  const first = Math.floor(addr / PAGE_SIZE);
  const nr = Math.min(room, Math.ceil((addr + len) / PAGE_SIZE) - first);
  // iov_iter_get_pages2() on a source iterator: no FOLL_WRITE, FOLL_GET references
  const { ret, rec } = driver_gup(k, {
    owner: "vmsplice",
    api: "get_user_pages_fast",
    caller: task,
    target: task,
    start: first * PAGE_SIZE,
    nrPages: nr,
    flags: 0,
  });
  if (ret <= 0) return ret < 0 ? ret : -EFAULT;
  for (let i = 0; i < ret; i++) pipe.bufs.push({ page: rec!.pages[i], rec: rec!, index: i, copied: 0 });
  k.trace.emit("vmsplice", "fs/splice.c: vmsplice_to_pipe()", { pid: task.pid, pin: rec!.id, pages: ret });
  return Math.min(len, ret * PAGE_SIZE - (addr % PAGE_SIZE));
}

/** vmsplice on the read end (vmsplice_to_user()): copy pipe data into user memory. */
function vmsplice_to_user(k: Kernel, task: Task, pipe: Pipe, addr: number, len: number): number {
  const contents: number[] = [];
  while (contents.length * PAGE_SIZE < len && pipe.bufs.length) contents.push(consume(k, pipe));
  if (!contents.length) return -EAGAIN;
  const r = copy_to_user(k, task, addr, contents);
  return r < 0 ? r : Math.min(len, contents.length * PAGE_SIZE);
}

/** Take the first buffer: its content as of now; user_page_pipe_buf_ops release is put_page(). */
function consume(k: Kernel, pipe: Pipe): number {
  const b = pipe.bufs.shift()!;
  const v = b.rec ? k.memmap.content(b.page) : b.copied;
  if (b.rec) {
    put_page(k, b.page);
    if (!pipe.bufs.some((x) => x.rec === b.rec)) b.rec.released = true;
  }
  return v;
}

/**
 * read(pipe, len): the content of the first page read (one value per page,
 * like every read in the model); -EAGAIN when empty.
 */
export function pipe_read(k: Kernel, task: Task, fd: number, len: number): number {
  const e = pipeOf(task, fd);
  if (typeof e === "number") return e;
  if (e.end !== "r") return -EBADF;
  if (!e.pipe.bufs.length) return -EAGAIN;
  let v = 0;
  for (let n = 0; n * PAGE_SIZE < Math.max(len, 1) && e.pipe.bufs.length; n++) {
    const c = consume(k, e.pipe);
    if (n === 0) v = c;
  }
  k.trace.emit("pipe_read", "fs/pipe.c: pipe_read()", { pid: task.pid, value: v });
  return v;
}

/** free_pipe_info(): the last end closed; spliced pages' references are dropped. */
function free_pipe_info(k: Kernel, pipe: Pipe): void {
  while (pipe.bufs.length) consume(k, pipe);
}
