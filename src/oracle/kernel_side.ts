/**
 * The kernel's side of a differential run: the scenario's statements become
 * native runner steps (docs/oracle-protocol.md) in real processes on this
 * machine's kernel, with the scenario's names bound to the kernel's own
 * values — the addresses mmap() returned here, the fds open() returned
 * here — so `buf + 4K` means the same page on both sides. The answers come
 * back in the scenario's terms: the value the call returns in the language
 * (a content word for load/read/dma_read), and at an assert the value of
 * every observer the kernel can observe (./observe.ts).
 */
import { readFileSync } from "node:fs";
import { EFAULT } from "../kernel/include/errno.js";
import { PAGE_SIZE } from "../kernel/include/mmzone.js";
import type { Call, StepStmt } from "../scenario/ast.js";
import type { CheckedScenario } from "../scenario/checker.js";
import { type CallName, isObserverName, OBSERVERS } from "../scenario/calls.js";
import { printExpr } from "../scenario/print.js";
import type { NativeRunner } from "./native.js";
import { OBSERVER_COMPARISON, type KernelPage } from "./observe.js";
import type { KernelSetup } from "./portable.js";
import type { ArgValue, OracleResult, OracleStep, Runs } from "./protocol.js";
import { evalExpr, observerCalls, type Runnable, type Scope, type SideValue } from "./scenario_walk.js";

/** A binding on the kernel side: its number and what it holds besides. */
interface KBinding {
  n: number;
  pipe?: { rfd: number; wfd: number; handle: number };
  uring?: { proc: string; addr: number; len: number };
  /** a move_pages() status array, as the kernel left it */
  status?: number[];
}

/** What one statement did on the kernel. */
export interface KernelStep {
  /** the value in the language's terms (a call's return, a content word for load/read/dma_read) */
  value?: number;
  /** the runner's answers behind it (evidence) */
  raw: OracleResult[];
  /** a fault of the run itself, not a kernel answer */
  fault?: { kind: "hang" | "crash" | "memory" | "runner"; detail: string };
  /** found at run time: the live kernel cannot do this step */
  notPortable?: string;
  /** an assert: what each observer read on the kernel */
  observations?: KernelObservation[];
}

export interface KernelObservation {
  node: number;
  text: string;
  value: SideValue;
}

/** Thrown inside a step's translation: the step is not portable after all. */
class NotPortable extends Error {}

/** Faults a runner answer may carry. */
function faultOf(r: OracleResult): KernelStep["fault"] | undefined {
  if (r.error === "timeout") return { kind: "hang", detail: r.detail ?? "the step passed its deadline" };
  if (r.error === "crashed") return { kind: "crash", detail: r.detail ?? "the process died" };
  if (r.obs && "rlimit_as" in r.obs && (r.ret ?? 0) < 0)
    return {
      kind: "memory",
      detail: `the step exceeded the run's memory bound (RLIMIT_AS ${String(r.obs.rlimit_as)})`,
    };
  if (r.error) return { kind: "runner", detail: r.error + (r.detail ? ` (${r.detail})` : "") };
  return undefined;
}

function firstWord(runs: unknown): number | null {
  const r = runs as Runs | undefined;
  return r && r.length > 0 ? r[0][0] : null;
}

/** io_uring's ring is torn down by a workqueue after the process exits; how long to wait for it. */
const RING_TEARDOWN_MAX_MS = 2000;
const KSM_SCAN_TIMEOUT_MS = 60_000;

export class KernelSide {
  private readonly bindings = new Map<string, KBinding>();
  private readonly pids = new Map<string, number>();
  private readonly exited = new Set<string>();
  private readonly mounts = new Map<string, string>();
  /** process → pages it has registered with io_uring (for the teardown wait at exit) */
  private readonly registered = new Map<string, number>();
  private mlockall = false;
  private children = 0;

  constructor(
    private readonly r: NativeRunner,
    private readonly c: CheckedScenario,
    /** each step's deadline, unless the step sets its own (the runner's default: 10 s) */
    private readonly stepTimeoutMs?: number,
  ) {}

  /** Whether mlockall() was called (VmLck then counts the runner's own memory). */
  get usedMlockall(): boolean {
    return this.mlockall;
  }

  private scope(): Scope {
    return {
      binding: (n) => this.bindings.get(n)?.n,
      process: (n) => this.pids.get(n),
    };
  }

  private num(e: Parameters<typeof evalExpr>[1]): number {
    const v = evalExpr(this.c, e, this.scope());
    if (v.kind !== "int") throw new NotPortable(`\`${printExpr(e)}\` has no value on the kernel side`);
    return v.n;
  }

  /**
   * Set the machine up as the scenario's `machine` line says: THP mode, the
   * hugetlb pools (exactly the free pages the model has), ksmd. Returns a
   * reason when the live machine cannot be set so (the scenario is then
   * unavailable here, not failed).
   */
  /** FOLL_PIN pins outstanding on the machine when the run started (see foll_pins) */
  private pinBaseline = 0;

  /**
   * Pins outstanding machine-wide, once they stop changing: a previous run's io_uring ring
   * unpins from a workqueue after its processes are gone (io_ring_exit_work()).
   */
  private async quiescentPins(): Promise<number> {
    const outstanding = async (): Promise<number> => {
      const v = await this.r.vmstat(["nr_foll_pin_acquired", "nr_foll_pin_released"]);
      return (v.nr_foll_pin_acquired ?? 0) - (v.nr_foll_pin_released ?? 0);
    };
    const start = Date.now();
    let last = await outstanding();
    while (last !== 0 && Date.now() - start < RING_TEARDOWN_MAX_MS) {
      await new Promise((res) => setTimeout(res, 10));
      last = await outstanding();
    }
    return last;
  }

  async setup(s: KernelSetup): Promise<string | null> {
    this.pinBaseline = await this.quiescentPins();
    const knob = async (path: string, value: string): Promise<string | null> => {
      const g = await this.r.must({ op: "get_knob", args: { path } });
      if (String(g.obs?.value) === value) return null;
      const k = await this.r.must({ op: "set_knob", args: { path, value } });
      if ((k.ret ?? -1) < 0 || String(k.obs?.value) !== value)
        return `cannot set ${path} to ${value} (${k.errname ?? String(k.obs?.value)})`;
      return null;
    };
    const thp = await knob("/sys/kernel/mm/transparent_hugepage/enabled", s.thp);
    if (thp) return thp;
    const zp = await knob("/sys/kernel/mm/transparent_hugepage/use_zero_page", s.thpZeroPage ? "1" : "0");
    if (zp) return zp;
    for (const [size, want, kb] of [
      ["2M", s.hugetlb2M, 2048],
      ["1G", s.hugetlb1G, 1048576],
    ] as const) {
      if (want === null) continue;
      const dir = `/sys/kernel/mm/hugepages/hugepages-${kb}kB`;
      // A previous run's io_uring ring may still be tearing down (io_ring_exit_work(), after
      // its process exited): its huge page is then surplus, freed a little later. Counting
      // the pool before that would leave this run more free pages than it asked for.
      await this.settle(`${dir}/surplus_hugepages`);
      const nr = Number(
        (await this.r.must({ op: "get_knob", args: { path: `${dir}/nr_hugepages` } })).obs?.value,
      );
      const free = Number(
        (await this.r.must({ op: "get_knob", args: { path: `${dir}/free_hugepages` } })).obs?.value,
      );
      const target = nr - free + want;
      if (target === nr) continue;
      const k = await this.r.must({ op: "nr_hugepages", args: { size, count: target } });
      if (Number(k.obs?.value) !== target)
        return `the ${size} hugetlb pool could not be set to ${want} free pages (the kernel granted ${Number(k.obs?.value) - (nr - free)})`;
      const now = Number(
        (await this.r.must({ op: "get_knob", args: { path: `${dir}/free_hugepages` } })).obs?.value,
      );
      if (process.env.PINLAB_ORACLE_DEBUG)
        process.stderr.write(`pool ${size}: nr ${nr} free ${free} -> target ${target}, free now ${now}\n`);
    }
    if (s.overcommitHugetlb2M !== null) {
      const e = await knob("/proc/sys/vm/nr_overcommit_hugepages", String(s.overcommitHugetlb2M));
      if (e) return e;
    }
    if (s.overcommitMemory !== null) {
      const e = await knob("/proc/sys/vm/overcommit_memory", String(s.overcommitMemory));
      if (e) return e;
    }
    if (s.ksm) {
      // ksmd scans every 20 ms by default; a run waits for whole scans (see ksm_scan below)
      const e = await knob("/sys/kernel/mm/ksm/run", "1");
      if (e) return e;
    }
    return null;
  }

  /** Wait (bounded) until a counter knob reads 0. */
  private async settle(path: string): Promise<void> {
    const start = Date.now();
    while (Date.now() - start < RING_TEARDOWN_MAX_MS) {
      const v = Number((await this.r.must({ op: "get_knob", args: { path } })).obs?.value);
      if (v === 0) return;
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  /** Execute one statement. Rejects (OracleError) only when the runner itself fails. */
  async exec(s: Runnable): Promise<KernelStep> {
    try {
      switch (s.kind) {
        case "mount": {
          const r = await this.r.step({ op: "mount", args: { kind: s.fs.name } });
          const fault = faultOf(r);
          if (fault) return { raw: [r], fault };
          if ((r.ret ?? -1) < 0)
            return { raw: [r], notPortable: `mount ${s.fs.name}: ${String(r.obs?.reason ?? r.errname)}` };
          this.mounts.set(s.path.value, String(r.obs?.path));
          return { raw: [r], value: 0 };
        }
        case "process": {
          const r = await this.r.step({ proc: s.name.name, op: "spawn" });
          const fault = faultOf(r);
          if (fault) return { raw: [r], fault };
          if (r.ret !== undefined && r.ret > 0) this.pids.set(s.name.name, r.ret);
          return { raw: [r], value: r.ret };
        }
        case "step":
          return await this.call(s);
        case "assert":
          return await this.assert(s.cond);
      }
    } catch (e) {
      if (e instanceof NotPortable) return { raw: [], notPortable: e.message };
      throw e;
    }
  }

  // --- calls ---------------------------------------------------------------------------------------

  private fd(e: Parameters<typeof evalExpr>[1], end: "read" | "write"): number {
    if (e.kind === "name") {
      const b = this.bindings.get(e.name);
      if (b?.pipe) return end === "read" ? b.pipe.rfd : b.pipe.wfd;
    }
    return this.num(e);
  }

  private path(p: string): string {
    if (p === "/proc/self/mem") return p;
    for (const [mnt, real] of this.mounts) {
      if (p === mnt) return real;
      const prefix = mnt.endsWith("/") ? mnt : mnt + "/";
      if (p.startsWith(prefix)) return real + "/" + p.slice(prefix.length);
    }
    throw new NotPortable(`${p} is not under a mounted file system`);
  }

  private async one(step: OracleStep): Promise<{ r: OracleResult; fault?: KernelStep["fault"] }> {
    const timeout = step.timeout_ms ?? this.stepTimeoutMs;
    const r = await this.r.step(timeout === undefined ? step : { ...step, timeout_ms: timeout });
    return { r, fault: faultOf(r) };
  }

  private async call(s: StepStmt): Promise<KernelStep> {
    const name = s.call.callee.name as CallName;
    const a = s.call.args;
    const proc = s.actor.name;
    const n = (i: number) => this.num(a[i]);
    const procArg = (i: number): string => {
      const e = a[i];
      if (e?.kind !== "name") throw new NotPortable("a process argument must name a process");
      return e.name;
    };
    let step: OracleStep;
    let value: (r: OracleResult) => number | undefined = (r) => r.ret;
    let bind: ((r: OracleResult) => KBinding | null) | null = null;
    switch (name) {
      case "mmap":
        step = {
          proc,
          op: "mmap",
          args: { addr: n(0), len: n(1), prot: n(2), flags: n(3), fd: this.fd(a[4], "read"), off: n(5) },
        };
        break;
      case "munmap":
        step = { proc, op: "munmap", args: { addr: n(0), len: n(1) } };
        break;
      case "mprotect":
        step = { proc, op: "mprotect", args: { addr: n(0), len: n(1), prot: n(2) } };
        break;
      case "madvise":
        step = { proc, op: "madvise", args: { addr: n(0), len: n(1), advice: n(2) } };
        break;
      case "mremap": {
        const args: Record<string, ArgValue> = { addr: n(0), old_len: n(1), new_len: n(2), flags: n(3) };
        if (a.length > 4) args.new_addr = n(4);
        step = { proc, op: "mremap", args };
        break;
      }
      case "mlock":
        step = { proc, op: "mlock", args: { addr: n(0), len: n(1) } };
        break;
      case "mlock2":
        step = { proc, op: "mlock", args: { addr: n(0), len: n(1), flags: n(2) } };
        break;
      case "munlock":
        step = { proc, op: "munlock", args: { addr: n(0), len: n(1) } };
        break;
      case "mlockall":
        this.mlockall = true;
        step = { proc, op: "mlockall", args: { flags: n(0) } };
        break;
      case "uffdio_move":
        // the runner registers dst with a userfaultfd (UFFD_FEATURE_MOVE), moves, unregisters
        step = {
          proc,
          op: "uffd_move",
          args: { dst: n(0), src: n(1), len: n(2), mode: a.length > 3 ? n(3) : 0 },
        };
        break;
      case "munlockall":
        step = { proc, op: "munlockall" };
        break;
      case "fork": {
        const child = s.binding?.name ?? `__child${++this.children}`;
        const res = await this.one({ proc, op: "fork", args: { child } });
        if (res.fault) return { raw: [res.r], fault: res.fault };
        if ((res.r.ret ?? -1) > 0) this.pids.set(child, res.r.ret!);
        return { raw: [res.r], value: res.r.ret };
      }
      case "exit": {
        const res = await this.one({ proc, op: "exit", args: { status: n(0) } });
        if (res.fault) return { raw: [res.r], fault: res.fault };
        this.exited.add(proc);
        const pages = this.registered.get(proc) ?? 0;
        if (pages > 0) await this.ringTeardown(pages);
        this.registered.delete(proc);
        return { raw: [res.r], value: res.r.ret };
      }
      case "memset":
        step = { proc, op: "memset", args: { addr: n(0), value: n(1), len: n(2) } };
        break;
      case "store":
        step = { proc, op: "store", args: { addr: n(0), value: n(1) } };
        break;
      case "load":
        step = { proc, op: "load", args: { addr: n(0) } };
        break;
      case "open": {
        const p = a[0];
        const path = p?.kind === "str" || p?.kind === "path" ? p.value : "";
        step = { proc, op: "open", args: { path: this.path(path), flags: n(1), mode: 0o644 } };
        break;
      }
      case "close":
        step = { proc, op: "close", args: { fd: this.fd(a[0], "read") } };
        break;
      case "ftruncate":
        step = { proc, op: "ftruncate", args: { fd: this.fd(a[0], "write"), len: n(1) } };
        break;
      case "fallocate":
        step = {
          proc,
          op: "fallocate",
          args: { fd: this.fd(a[0], "write"), mode: n(1), off: n(2), len: n(3) },
        };
        break;
      case "fsync":
        step = { proc, op: "fsync", args: { fd: this.fd(a[0], "write") } };
        break;
      case "read": {
        const e = a[0];
        const pipe = e?.kind === "name" ? this.bindings.get(e.name)?.pipe : undefined;
        // The model's read of an empty pipe is -EAGAIN (fs/pipe.c: pipe_read() with nothing
        // to read and O_NONBLOCK); the runner's pipe_read never blocks either.
        step = pipe
          ? { op: "pipe_read", args: { pipe: pipe.handle, len: n(1) } }
          : { proc, op: "read", args: { fd: this.fd(e, "read"), len: n(1) } };
        value = (r) => {
          if ((r.ret ?? -1) <= 0) return r.ret;
          const w = firstWord(r.obs?.runs);
          return w === null ? undefined : w;
        };
        break;
      }
      case "write":
        step = { proc, op: "write", args: { fd: this.fd(a[0], "write"), buf: n(1), len: n(2) } };
        break;
      case "pread":
        step = { proc, op: "pread", args: { fd: this.fd(a[0], "read"), buf: n(1), len: n(2), off: n(3) } };
        break;
      case "pwrite":
        step = { proc, op: "pwrite", args: { fd: this.fd(a[0], "write"), buf: n(1), len: n(2), off: n(3) } };
        break;
      case "memfd_create": {
        const nm = a[0];
        step = {
          proc,
          op: "memfd_create",
          args: { name: nm?.kind === "str" || nm?.kind === "path" ? nm.value : "pinlab", flags: n(1) },
        };
        break;
      }
      case "memfd_secret":
        step = { proc, op: "memfd_secret", args: { flags: n(0) } };
        break;
      case "pipe":
        step = { proc, op: "pipe", args: { flags: 0 } };
        bind = (r) =>
          (r.ret ?? -1) === 0
            ? {
                n: 0,
                pipe: { rfd: Number(r.obs?.rfd), wfd: Number(r.obs?.wfd), handle: Number(r.obs?.pipe) },
              }
            : null;
        break;
      case "vmsplice":
        step = {
          proc,
          op: "vmsplice",
          args: { fd: this.fd(a[0], "write"), addr: n(1), len: n(2), flags: n(3) },
        };
        break;
      case "io_uring_register_buffers": {
        const addr = n(0);
        const len = n(1);
        step = { proc, op: "io_uring_register_buffers", args: { addr, len } };
        bind = (r) => ((r.ret ?? -1) === 0 ? { n: 0, uring: { proc, addr, len } } : null);
        const res = await this.one(step);
        if (res.fault) return { raw: [res.r], fault: res.fault };
        if (res.r.ret === 0) this.registered.set(proc, Math.ceil(len / PAGE_SIZE));
        if (s.binding) {
          const b = bind(res.r);
          this.bindings.set(s.binding.name, b ?? { n: res.r.ret ?? 0 });
        }
        return { raw: [res.r], value: res.r.ret };
      }
      case "io_uring_unregister_buffers": {
        const res = await this.one({ proc, op: "io_uring_unregister_buffers" });
        if (res.fault) return { raw: [res.r], fault: res.fault };
        if (res.r.ret === 0) this.registered.delete(proc);
        return { raw: [res.r], value: res.r.ret };
      }
      case "process_vm_readv":
      case "process_vm_writev":
        step = {
          proc,
          op: name,
          args: {
            target: procArg(0),
            local: { addr: n(1), len: n(2) },
            remote: { addr: n(3), len: n(4) },
            flags: n(5),
          },
        };
        break;
      case "move_pages":
      case "move_pages_stat": {
        // the status array starts as INT_MIN in both (the runner fills it so), so an entry the
        // kernel leaves unwritten compares equal (mm/migrate.c: move_pages_and_store_status())
        const stat = name === "move_pages_stat";
        const nr = stat ? (a.length > 2 ? n(2) : 1) : a.length > 4 ? n(4) : 1;
        const base = n(1);
        const pages = Array.from({ length: nr }, (_, i) => base + i * PAGE_SIZE);
        const args: Record<string, ArgValue> = { target: procArg(0), pages };
        if (!stat) {
          args.nodes = pages.map(() => n(2));
          args.flags = n(3);
        }
        step = { proc, op: "move_pages", args };
        bind = (r) => ({ n: r.ret ?? 0, status: (r.obs?.status as number[] | undefined) ?? [] });
        break;
      }
      case "ksm_scan": {
        // ksmd's timing is its own (mm/ksm.c: ksm_scan_thread() sleeps sleep_millisecs between
        // batches of pages_to_scan): waiting for two more full scans guarantees at least one
        // complete pass over every mergeable page after the previous step, which is what one
        // model ksm_scan() is. The count it returns is not compared (see compare.ts).
        const res = await this.one({ op: "ksm_wait", args: { scans: 2 }, timeout_ms: KSM_SCAN_TIMEOUT_MS });
        if (res.fault) return { raw: [res.r], fault: res.fault };
        if ((res.r.ret ?? 0) < 0)
          return {
            raw: [res.r],
            fault: { kind: "hang", detail: "ksmd did not complete two full scans in time" },
          };
        return { raw: [res.r], value: undefined };
      }
      case "dma_read":
      case "dma_write":
        return await this.dma(s, name);
      default:
        throw new NotPortable(`${name} has no native translation`);
    }
    const res = await this.one(step);
    if (res.fault) return { raw: [res.r], fault: res.fault };
    if (s.binding) {
      const b = bind ? bind(res.r) : null;
      const v = value(res.r);
      this.bindings.set(s.binding.name, b ?? { n: v ?? res.r.ret ?? 0 });
    }
    return { raw: [res.r], value: value(res.r) };
  }

  /** A device access through an io_uring fixed buffer: WRITE_FIXED reads it, READ_FIXED writes it. */
  private async dma(s: StepStmt, name: "dma_read" | "dma_write"): Promise<KernelStep> {
    const a = s.call.args;
    const h = a[0]?.kind === "name" ? this.bindings.get(a[0].name) : undefined;
    const u = h?.uring;
    if (!u) throw new NotPortable("the handle is not a registered io_uring buffer on the kernel side");
    if (this.exited.has(u.proc))
      throw new NotPortable(
        `the process that registered the buffer (${u.proc}) has exited: its ring is gone`,
      );
    if (u.addr % PAGE_SIZE !== 0)
      throw new NotPortable("the registered buffer does not start at a page boundary");
    const pageArg = name === "dma_read" ? a[1] : a[2];
    const page = pageArg ? this.num(pageArg) : undefined;
    const addr = u.addr + (page ?? 0) * PAGE_SIZE;
    if (name === "dma_read") {
      const res = await this.one({ proc: u.proc, op: "uring_write_fixed", args: { addr, len: PAGE_SIZE } });
      if (res.fault) return { raw: [res.r], fault: res.fault };
      const ret = res.r.ret ?? -1;
      const w = ret > 0 ? firstWord(res.r.obs?.runs) : null;
      const v = ret < 0 ? ret : (w ?? undefined);
      if (s.binding) this.bindings.set(s.binding.name, { n: v ?? ret });
      return { raw: [res.r], value: v };
    }
    const len = page === undefined ? u.len : PAGE_SIZE;
    const res = await this.one({
      proc: u.proc,
      op: "uring_read_fixed",
      args: { addr, len, value: this.num(a[1]) },
    });
    if (res.fault) return { raw: [res.r], fault: res.fault };
    const ret = res.r.ret ?? -1;
    // the model's dma_write returns 0 when every page was written
    const v = ret === len ? 0 : ret < 0 ? ret : -5; /* -EIO: a short device write */
    if (s.binding) this.bindings.set(s.binding.name, { n: v });
    return { raw: [res.r], value: v };
  }

  /**
   * io_uring frees an exited process's ring — and unpins its buffers — from a
   * workqueue (io_uring/io_uring.c: io_ring_ctx_wait_and_kill() queues
   * io_ring_exit_work()), some 20 ms after the process is gone; the model
   * releases them in do_exit(). Wait until the pins are released (the
   * machine-wide nr_foll_pin_released moved by at least the pages the ring
   * held) or the bound passed, so the next step sees the quiescent state.
   */
  private async ringTeardown(pages: number): Promise<void> {
    const counter = async (): Promise<number> =>
      Number((await this.r.vmstat(["nr_foll_pin_released"])).nr_foll_pin_released ?? 0);
    const start = Date.now();
    const before = await counter();
    for (;;) {
      await new Promise((res) => setTimeout(res, 10));
      if ((await counter()) - before >= pages || Date.now() - start > RING_TEARDOWN_MAX_MS) break;
    }
  }

  // --- observations ------------------------------------------------------------------------------

  private async assert(cond: Parameters<typeof observerCalls>[0]): Promise<KernelStep> {
    const raw: OracleResult[] = [];
    const pagemaps = new Map<string, KernelPage | null>();
    const statuses = new Map<string, OracleResult>();
    const observations: KernelObservation[] = [];
    for (const call of observerCalls(cond)) {
      observations.push({
        node: call.id,
        text: printExpr(call),
        value: await this.observe(call, raw, pagemaps, statuses),
      });
    }
    return { raw, observations };
  }

  private async observe(
    call: Call,
    raw: OracleResult[],
    pagemaps: Map<string, KernelPage | null>,
    statuses: Map<string, OracleResult>,
  ): Promise<SideValue> {
    const name = call.callee.name;
    if (!isObserverName(name)) return { kind: "unknown", why: "not an observer" };
    const how = OBSERVER_COMPARISON[name].how;
    if (how === "model-only") return { kind: "unknown", why: "not observable on the live kernel" };
    if (name === "vmlck" && this.mlockall)
      return { kind: "unknown", why: "after mlockall() VmLck counts the runner's own memory" };
    if (name === "move_status") {
      const h = call.args[0];
      const st = h?.kind === "name" ? this.bindings.get(h.name)?.status : undefined;
      const i = evalExpr(this.c, call.args[1], this.scope());
      if (!st || i.kind !== "int")
        return { kind: "unknown", why: "no move_pages() status on the kernel side" };
      return i.n >= 0 && i.n < st.length
        ? { kind: "int", n: st[i.n] }
        : { kind: "unknown", why: "index out of range" };
    }
    if (name === "foll_pins") {
      const v = await this.r.vmstat(["nr_foll_pin_acquired", "nr_foll_pin_released"]);
      return {
        kind: "int",
        n: (v.nr_foll_pin_acquired ?? 0) - (v.nr_foll_pin_released ?? 0) - this.pinBaseline,
      };
    }
    const procE = call.args[0];
    const proc = procE?.kind === "name" ? procE.name : "";
    if (!this.pids.has(proc)) return { kind: "unknown", why: `no process ${proc} on the kernel side` };
    const gone = this.exited.has(proc);
    if (name === "exited") return { kind: "bool", b: gone };
    if (OBSERVERS[name].args.length === 1) {
      // vmpin, vmlck: an exited process has no mm (the model's status reads 0)
      if (gone) return { kind: "int", n: 0 };
      let st = statuses.get(proc);
      if (!st) {
        st = await this.r.step({ proc, op: "status" });
        raw.push(st);
        statuses.set(proc, st);
      }
      const kb = Number(st.obs?.[name === "vmpin" ? "VmPin" : "VmLck"]);
      return Number.isFinite(kb)
        ? { kind: "int", n: kb * 1024 }
        : { kind: "unknown", why: st.error ?? "no status" };
    }
    const addrV = evalExpr(this.c, call.args[1], this.scope());
    if (addrV.kind !== "int") return addrV;
    const addr = addrV.n;
    const unmapped: SideValue =
      how === "exclusive" || (how === "exact" && name !== "load") || how === "movable"
        ? { kind: "bool", b: false }
        : { kind: "int", n: -EFAULT };
    if (gone) return unmapped;
    if (name === "load") {
      const r = await this.r.step({ proc, op: "peek", args: { addr, len: 1 } });
      raw.push(r);
      if (r.error) return { kind: "unknown", why: r.error };
      const w = firstWord(r.obs?.runs);
      if (w === null && (r.ret ?? 0) >= 0)
        return { kind: "unknown", why: "unreadable through /proc/PID/mem" };
      if (w === null) {
        // present but unreadable (secretmem is not in the kernel's direct map) vs not mapped at all
        const pg = await this.page(proc, addr, raw, pagemaps);
        return pg?.present
          ? { kind: "unknown", why: "unreadable through /proc/PID/mem (secretmem)" }
          : { kind: "int", n: -EFAULT };
      }
      return { kind: "int", n: w };
    }
    const pg = await this.page(proc, addr, raw, pagemaps);
    if (!pg) return { kind: "unknown", why: "pagemap unreadable" };
    if (!pg.present) return unmapped;
    switch (name) {
      case "pfn":
        return { kind: "int", n: pg.pfn ?? -1 };
      case "mapped":
        return { kind: "bool", b: true };
      case "anon":
        return { kind: "bool", b: pg.anon === true };
      case "hugetlb":
        return { kind: "bool", b: pg.hugetlb === true };
      case "zero_page":
        return { kind: "bool", b: pg.zero === true };
      case "anon_exclusive":
        return { kind: "bool", b: pg.exclusive };
      case "mapcount":
        return pg.mapcount === undefined
          ? { kind: "unknown", why: "kpagecount unreadable" }
          : { kind: "int", n: pg.mapcount };
      case "zone":
        return { kind: "bool", b: this.movablePfn(pg.pfn ?? -1) };
      case "node": {
        // move_pages(2) with nodes == NULL: do_pages_stat() reports the page's node
        const r = await this.r.step({ proc, op: "move_pages", args: { pages: [addr] } });
        raw.push(r);
        const st = (r.obs?.status as number[] | undefined)?.[0];
        return st === undefined || (r.ret ?? -1) < 0
          ? { kind: "unknown", why: "move_pages failed" }
          : { kind: "int", n: st };
      }
      case "order": {
        if (pg.hugetlb) {
          const sm = await this.r.step({ proc, op: "smaps", args: { addr, len: 1 } });
          raw.push(sm);
          const vmas = (sm.obs?.vmas as { KernelPageSize?: number }[] | undefined) ?? [];
          const kps = vmas[0]?.KernelPageSize;
          if (!kps) return { kind: "unknown", why: "no KernelPageSize in smaps" };
          return { kind: "int", n: Math.round(Math.log2((kps * 1024) / PAGE_SIZE)) };
        }
        if (pg.thp)
          return pg.anon
            ? { kind: "int", n: 9 }
            : { kind: "unknown", why: "a large page-cache folio (order > 0, not visible)" };
        return { kind: "int", n: 0 };
      }
      default:
        return { kind: "unknown", why: "not observable on the live kernel" };
    }
  }

  private movableSpan: [number, number] | null | undefined;

  /** Is the pfn in ZONE_MOVABLE? (/proc/zoneinfo: the Movable zone's span; usually empty) */
  private movablePfn(pfn: number): boolean {
    if (this.movableSpan === undefined) this.movableSpan = movableZoneSpan();
    const s = this.movableSpan;
    return s !== null && pfn >= s[0] && pfn < s[1];
  }

  private async page(
    proc: string,
    addr: number,
    raw: OracleResult[],
    cache: Map<string, KernelPage | null>,
  ): Promise<KernelPage | null> {
    const key = `${proc}:${Math.floor(addr / PAGE_SIZE)}`;
    if (cache.has(key)) return cache.get(key) ?? null;
    const r = await this.r.step({ proc, op: "pagemap", args: { addr, len: PAGE_SIZE } });
    raw.push(r);
    const pages = r.obs?.pages as KernelPage[] | undefined;
    const pg = r.error || !pages?.length ? null : pages[0];
    cache.set(key, pg);
    return pg;
  }
}

/** The Movable zone's [start_pfn, end_pfn) from /proc/zoneinfo, or null when it is empty. */
export function movableZoneSpan(text?: string): [number, number] | null {
  let zi = text;
  if (zi === undefined) {
    try {
      zi = readFileSync("/proc/zoneinfo", "utf8");
    } catch {
      return null;
    }
  }
  const m = /zone\s+Movable[\s\S]*?spanned\s+(\d+)[\s\S]*?start_pfn:\s+(\d+)/.exec(zi);
  if (!m) return null;
  const spanned = Number(m[1]);
  const start = Number(m[2]);
  return spanned > 0 ? [start, start + spanned] : null;
}
