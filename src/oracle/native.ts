/**
 * The live-kernel oracle's client: starts `native/pinlab-runner`, sends it
 * steps, receives results, bounds every step in time, and — as the runner's
 * supervisor — undoes whatever the runner changed if it dies (see
 * ./journal.ts and docs/oracle-protocol.md).
 *
 * Addresses: the runner reports the real addresses the kernel handed out;
 * a step bound with `bind: "buf"` can be referred to later as
 * `{ $ref: "buf", add: 4096 }`, so callers keep the scenario's symbolic names
 * and compare with the model symbolically.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PinlabError } from "../kernel/errors.js";
import { recoverJournal, recoverStaleJournals, type RecoveryReport } from "./journal.js";
import type {
  ArgValue,
  OracleResult,
  OracleStep,
  PagemapPage,
  RunnerHello,
  Runs,
  StatusObs,
  SymRef,
} from "./protocol.js";
import { PROTOCOL_VERSION } from "./protocol.js";

/** The prefix of every "the oracle cannot run here" message. */
export const ORACLE_UNAVAILABLE = "oracle unavailable";

export type OracleAvailability = { ok: true; binary: string } | { ok: false; reason: string };

/** "oracle unavailable: <reason>" */
export function unavailableMessage(a: { reason: string }): string {
  return `${ORACLE_UNAVAILABLE}: ${a.reason}`;
}

/** A fault of the runner itself (it died, hung or spoke nonsense), not a kernel answer. */
export class OracleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OracleError";
  }
}

const EXT4_SUPER_MAGIC = 0xef53;

/** The directory holding package.json (works from src/ under vitest and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        const name = (JSON.parse(readFileSync(pj, "utf8")) as { name?: unknown }).name;
        if (name === "pinlab") return dir;
      } catch {
        // keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir)
      throw new PinlabError(
        "oracle: cannot find pinlab's package.json above " + fileURLToPath(import.meta.url),
      );
    dir = up;
  }
}

/**
 * The lock that keeps oracle runs on one machine apart: each run changes machine-wide state
 * (hugetlb pool, THP mode, ksmd, sysctls), so two at once would see each other's.
 */
export function defaultLockPath(): string {
  return join(tmpdir(), "pinlab-oracle.lock");
}

/** Where `npm run build:native` puts the runner. */
export function runnerBinaryPath(): string {
  return join(packageRoot(), "native", "pinlab-runner");
}

/** A working C compiler ($CC, cc, gcc, clang), or null. */
export function findCompiler(): string | null {
  const candidates = [process.env.CC, "cc", "gcc", "clang"].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ["--version"], { stdio: "ignore" });
    if (r.status === 0) return c;
  }
  return null;
}

/**
 * Can the live-kernel oracle run here? It needs Linux, root (PFNs in
 * /proc/PID/pagemap, /proc/kpageflags, the hugetlb pool, mounts) and the
 * runner binary, built by `npm run build:native` from native/runner.c.
 */
export function oracleAvailability(opts: { binary?: string } = {}): OracleAvailability {
  if (process.platform !== "linux") return { ok: false, reason: `not Linux (this is ${process.platform})` };
  const uid = typeof process.getuid === "function" ? process.getuid() : -1;
  if (uid !== 0)
    return {
      ok: false,
      reason: `not root (uid ${uid}): the oracle reads PFNs from /proc/PID/pagemap and sizes the hugetlb pool`,
    };
  // PINLAB_ORACLE_RUNNER: another runner binary (a build elsewhere; tests of the unavailable path)
  const binary = opts.binary ?? process.env.PINLAB_ORACLE_RUNNER ?? runnerBinaryPath();
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    if (!findCompiler())
      return { ok: false, reason: "no C compiler (cc, gcc or clang) to build native/runner.c" };
    return { ok: false, reason: `the runner is not built (${binary}): run \`npm run build:native\`` };
  }
  const source = join(dirname(binary), "runner.c");
  if (existsSync(source) && statSync(source).mtimeMs > statSync(binary).mtimeMs)
    return { ok: false, reason: `the runner is older than ${source}: run \`npm run build:native\`` };
  return { ok: true, binary };
}

/**
 * Parents to try for the per-run directory, best first: an ext4 file system
 * is needed for the MAP_SHARED ext4 cases, so the OS temp dir is used only if
 * it is ext4, else another ext4 mount, else the temp dir anyway.
 */
export function runDirCandidates(): string[] {
  const out: string[] = [];
  const isExt4 = (d: string): boolean => {
    try {
      return statfsSync(d).type === EXT4_SUPER_MAGIC;
    } catch {
      return false;
    }
  };
  for (const d of [tmpdir(), "/tmp", "/var/tmp"]) if (isExt4(d) && !out.includes(d)) out.push(d);
  try {
    for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
      const [, mnt, fstype, opts] = line.split(" ");
      if (fstype === "ext4" && mnt && opts?.split(",").includes("rw") && !out.includes(mnt)) out.push(mnt);
    }
  } catch {
    // not Linux
  }
  if (!out.includes(tmpdir())) out.push(tmpdir());
  return out;
}

export interface NativeRunnerOptions {
  /** The runner binary (default: native/pinlab-runner). */
  binary?: string;
  /** RLIMIT_AS of the runner and every process it makes, MiB (default 8192). */
  asLimitMb?: number;
  /** Added to a step's own deadline before the client gives up on the runner (default 5000 ms). */
  marginMs?: number;
  /**
   * Wait for the runner's hello at most this long (default 120 000 ms: it first waits for
   * the machine-wide lock, which another run may hold).
   */
  startTimeoutMs?: number;
  /** The machine-wide lock file that keeps runs apart (default defaultLockPath()); null: none. */
  lock?: string | null;
  /** Where to create the run directory (default: the first of runDirCandidates() that works). */
  runDirParent?: string;
}

/** How the runner ended, and what the supervisor had to undo. */
export interface RunnerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  recovery: RecoveryReport;
}

interface Waiting {
  id: number | string;
  resolve: (r: OracleResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_STEP_TIMEOUT_MS = 10_000;
const RUNNER_BACKSTOP_MS = 2_000; // the runner kills a worker this long after the step's deadline

function isSymRef(v: ArgValue): v is SymRef {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as { $ref?: unknown }).$ref === "string"
  );
}

/** A running pinlab-runner. */
export class NativeRunner {
  private buf = "";
  private waiting: Waiting | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private readonly bindings = new Map<string, OracleResult>();
  private stderrTail = "";
  private exitInfo: RunnerExit | null = null;
  private readonly exitPromise: Promise<RunnerExit>;
  private helloWaiter: ((h: RunnerHello | Error) => void) | null = null;
  private hello_: RunnerHello | null = null;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly rundir: string,
    readonly journalPath: string,
    private readonly marginMs: number,
  ) {
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let stdoutEnded = false;
    let finish: (x: RunnerExit) => void = () => {};
    this.exitPromise = new Promise<RunnerExit>((res) => (finish = res));
    const finalize = (): void => {
      if (this.exitInfo || !exited) return;
      // The supervisor: whatever the runner did not undo, undo now.
      const recovery = recoverJournal(this.journalPath, { runnerPid: this.child.pid });
      this.exitInfo = { ...exited, recovery };
      const why = exited.signal ? `signal ${exited.signal}` : `exit code ${String(exited.code)}`;
      this.failPending(
        new OracleError(`the runner died (${why})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ""}`),
      );
      finish(this.exitInfo);
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => this.onData(chunk));
    child.stdout.on("end", () => {
      stdoutEnded = true;
      finalize();
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      if (stdoutEnded) finalize();
      else setTimeout(finalize, 1000).unref();
    });
    child.on("error", (e) =>
      this.failPending(new OracleError(`cannot run ${child.spawnfile}: ${e.message}`)),
    );
  }

  /** Start a runner; resolves once it said hello. Throws OracleError if it cannot start. */
  static async start(opts: NativeRunnerOptions = {}): Promise<NativeRunner> {
    const avail = oracleAvailability({ binary: opts.binary });
    if (!avail.ok) throw new OracleError(unavailableMessage(avail));
    const parents = opts.runDirParent ? [opts.runDirParent] : runDirCandidates();
    let rundir = "";
    for (const p of parents) {
      try {
        rundir = mkdtempSync(join(p, "pinlab-oracle-"));
        break;
      } catch {
        // next candidate
      }
    }
    if (!rundir) throw new OracleError(`cannot create a run directory under ${parents.join(", ")}`);
    const journalPath = `${rundir}.journal`;
    const args = ["--rundir", rundir, "--journal", journalPath];
    const lock = opts.lock === undefined ? defaultLockPath() : opts.lock;
    if (lock !== null) args.push("--lock", lock);
    if (opts.asLimitMb !== undefined) args.push("--as-limit-mb", String(opts.asLimitMb));
    // detached: the runner leads its own process group, so the supervisor can kill
    // every process it made even if the journal missed one.
    const child = spawn(avail.binary, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
    // A write to a runner that just died fails with EPIPE; the step is failed by the exit
    // handler (failPending), so the stream error itself carries nothing more.
    child.stdin.on("error", () => {});
    const r = new NativeRunner(child, rundir, journalPath, opts.marginMs ?? 5000);
    const hello = await new Promise<RunnerHello | Error>((resolve) => {
      r.helloWaiter = resolve;
      const t = setTimeout(
        () =>
          resolve(
            new OracleError(
              `the runner did not say hello (is another oracle run holding ${lock ?? "the lock"}?)`,
            ),
          ),
        opts.startTimeoutMs ?? 120_000,
      );
      t.unref();
      void r.exitPromise.then(() =>
        resolve(new OracleError(`the runner exited at start: ${r.stderrTail.trim()}`)),
      );
    });
    r.helloWaiter = null;
    if (hello instanceof Error) {
      r.killRunner();
      await r.exitPromise;
      rmSync(rundir, { recursive: true, force: true });
      throw hello;
    }
    // Runs whose runner and client both died leave a journal: undo them now, while this
    // runner holds the machine-wide lock (no other run can be changing the same state).
    recoverStaleJournals(parents);
    if (hello.version !== PROTOCOL_VERSION) {
      await r.close();
      throw new OracleError(
        `runner speaks protocol ${hello.version}, client ${PROTOCOL_VERSION}: rebuild it`,
      );
    }
    r.hello_ = hello;
    return r;
  }

  /** What the runner said at start (kernel, run directory, ext4, THP mode…). */
  get hello(): RunnerHello {
    if (!this.hello_) throw new PinlabError("NativeRunner.hello: the runner has not started");
    return this.hello_;
  }

  /** The runner's pid. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves when the runner has exited and the supervisor has cleaned up after it. */
  get exited(): Promise<RunnerExit> {
    return this.exitPromise;
  }

  get alive(): boolean {
    return this.exitInfo === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const nl = this.buf.indexOf("\n");
      if (nl < 0) return;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim()) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.failPending(new OracleError(`the runner wrote a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    if (typeof msg !== "object" || msg === null) return;
    if ("hello" in msg) {
      this.helloWaiter?.((msg as { hello: RunnerHello }).hello);
      return;
    }
    const res = msg as OracleResult;
    const w = this.waiting;
    if (!w) return;
    if (res.id !== w.id && res.id !== null) return; // not ours (cannot happen: one step at a time)
    this.waiting = null;
    clearTimeout(w.timer);
    w.resolve(res);
  }

  private failPending(e: Error): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = null;
    clearTimeout(w.timer);
    w.reject(e);
  }

  /** Replace every SymRef in args by the number it stands for. */
  resolveArgs(args: Record<string, ArgValue>): Record<string, ArgValue> {
    const walk = (v: ArgValue): ArgValue => {
      if (isSymRef(v)) return this.lookup(v);
      if (Array.isArray(v)) return v.map(walk);
      if (typeof v === "object" && v !== null) {
        const o: Record<string, ArgValue> = {};
        for (const [k, x] of Object.entries(v)) o[k] = walk(x);
        return o;
      }
      return v;
    };
    const out: Record<string, ArgValue> = {};
    for (const [k, v] of Object.entries(args)) out[k] = walk(v);
    return out;
  }

  private lookup(ref: SymRef): number {
    const r = this.bindings.get(ref.$ref);
    if (!r)
      throw new PinlabError(
        `oracle: no binding "${ref.$ref}" (bind a step's result with bind: "${ref.$ref}")`,
      );
    const v = ref.field
      ? (r.obs?.[ref.field] ?? (r as unknown as Record<string, unknown>)[ref.field])
      : r.ret;
    if (typeof v !== "number")
      throw new PinlabError(
        `oracle: binding "${ref.$ref}"${ref.field ? `.${ref.field}` : ""} is not a number`,
      );
    return v + (ref.add ?? 0);
  }

  /** The result bound under `name`. */
  binding(name: string): OracleResult | undefined {
    return this.bindings.get(name);
  }

  /** The real address (or other number) bound under `name`, plus `add`. */
  value(name: string, add = 0): number {
    return this.lookup({ $ref: name, add });
  }

  /**
   * Run one step. Resolves with the runner's answer, including kernel errors
   * (`ret < 0`) and step faults (`error: "timeout" | "crashed"`); rejects with
   * OracleError only if the runner itself dies or stops answering, in which
   * case it has been killed and cleaned up after.
   */
  step(step: OracleStep): Promise<OracleResult> {
    const run = this.queue.then(() => this.stepNow(step));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private stepNow(step: OracleStep): Promise<OracleResult> {
    if (!this.alive) return Promise.reject(new OracleError("the runner is not running"));
    const id = step.id ?? this.nextId++;
    const msg: Record<string, unknown> = { id, op: step.op };
    if (step.proc !== undefined) msg.proc = step.proc;
    if (step.args) msg.args = this.resolveArgs(step.args);
    const timeout = step.timeout_ms ?? DEFAULT_STEP_TIMEOUT_MS;
    if (step.timeout_ms !== undefined) msg.timeout_ms = step.timeout_ms;
    const bound = timeout + RUNNER_BACKSTOP_MS + this.marginMs;
    return new Promise<OracleResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failPending(
          new OracleError(
            `the runner did not answer step ${String(id)} (${step.op}) within ${bound} ms; it was killed`,
          ),
        );
        this.killRunner();
      }, bound);
      this.waiting = {
        id,
        resolve: (r) => {
          if (step.bind) this.bindings.set(step.bind, r);
          resolve(r);
        },
        reject,
        timer,
      };
      this.child.stdin.write(JSON.stringify(msg) + "\n");
    });
  }

  /** Run steps in order; stops early only if the runner dies. */
  async run(steps: readonly OracleStep[]): Promise<OracleResult[]> {
    const out: OracleResult[] = [];
    for (const s of steps) out.push(await this.step(s));
    return out;
  }

  /** Run a step and require a kernel answer (no step fault); returns it. */
  async must(step: OracleStep): Promise<OracleResult> {
    const r = await this.step(step);
    if (r.error)
      throw new OracleError(
        `step ${step.op}${step.proc ? ` in ${step.proc}` : ""}: ${r.error}${r.detail ? ` (${r.detail})` : ""}`,
      );
    return r;
  }

  // --- typed observations ----------------------------------------------------

  /** /proc/PID/pagemap (+ kpageflags, kpagecount) for each page of [addr, addr+len). */
  async pagemap(proc: string, addr: number | SymRef, len = 4096): Promise<PagemapPage[]> {
    const r = await this.must({ proc, op: "pagemap", args: { addr, len } });
    return (r.obs?.pages as PagemapPage[] | undefined) ?? [];
  }

  /** VmPin, VmLck and friends (kB). */
  async status(proc: string): Promise<StatusObs> {
    const r = await this.must({ proc, op: "status" });
    return r.obs as unknown as StatusObs;
  }

  /** /proc/vmstat counters (after stat_refresh). Machine-wide and noisy: prefer per-process observations. */
  async vmstat(names?: string[]): Promise<Record<string, number>> {
    const r = await this.must({ op: "vmstat", args: names ? { names } : {} });
    return (r.obs?.counters as Record<string, number> | undefined) ?? {};
  }

  /** What the process would read at each page of [addr, addr+len), without faulting. */
  async peek(proc: string, addr: number | SymRef, len = 4096): Promise<Runs> {
    const r = await this.must({ proc, op: "peek", args: { addr, len } });
    return (r.obs?.runs as Runs | undefined) ?? [];
  }

  /** Sum of smaps fields (kB) over the VMAs meeting [addr, addr+len). */
  async smaps(proc: string, addr: number | SymRef, len: number): Promise<Record<string, number>> {
    const r = await this.must({ proc, op: "smaps", args: { addr, len } });
    const o: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.obs ?? {})) if (typeof v === "number") o[k] = v;
    return o;
  }

  // --- ending ----------------------------------------------------------------

  /**
   * Stop the runner: it unregisters buffers, closes rings, ends its processes,
   * unmounts, removes its files and restores knobs; the supervisor then checks
   * the journal and undoes anything left. Resolves with what had to be undone.
   */
  async close(timeoutMs = 15_000): Promise<RunnerExit> {
    if (this.alive) {
      this.child.stdin.end();
      const t = setTimeout(() => this.killRunner(), timeoutMs);
      t.unref();
      const r = await this.exitPromise;
      clearTimeout(t);
      return r;
    }
    return this.exitPromise;
  }

  /** SIGKILL the runner alone (its processes are left to the supervisor): for fault tests. */
  killRunner(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
