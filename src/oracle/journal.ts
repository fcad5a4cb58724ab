/**
 * The oracle's journal: the runner appends one line per change it makes
 * outside its run directory (a process started, a mount, a knob and its
 * original value) BEFORE making it, and `{"t":"clean"}` once it has undone
 * everything. If the runner dies first (SIGKILL, a crash, the machine's OOM
 * killer), `recoverJournal` undoes the changes from here: the supervisor half
 * of the cleanup contract in docs/oracle-protocol.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { JournalEntry } from "./protocol.js";

/** What a recovery did. */
export interface RecoveryReport {
  journal: string;
  /** The runner had finished its own cleanup: nothing to undo. */
  wasClean: boolean;
  killed: number[];
  /** Processes still present (not even zombies should be) after the wait. */
  survivors: number[];
  unmounted: string[];
  restored: { path: string; value: string }[];
  removed: string[];
  failures: string[];
}

/** Parse a journal; a torn last line (the runner died mid-write) is ignored. */
export function readJournal(path: string): JournalEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (isEntry(v)) out.push(v);
    } catch {
      // torn write: ignore
    }
  }
  return out;
}

function isEntry(v: unknown): v is JournalEntry {
  if (typeof v !== "object" || v === null || !("t" in v)) return false;
  const t = (v as { t: unknown }).t;
  return t === "runner" || t === "proc" || t === "knob" || t === "mount" || t === "clean";
}

/** /proc/PID/stat: [state, starttime] or null when the pid does not exist. */
export function procStat(pid: number): { state: string; start: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); field 22 (starttime) is rest[19]
    return { state: rest[0] ?? "?", start: Number(rest[19]) };
  } catch {
    return null;
  }
}

/** The process is the one the journal recorded (not a reused pid) and has not exited. */
export function isLive(pid: number, start: number): boolean {
  const st = procStat(pid);
  return st !== null && st.start === start && st.state !== "Z" && st.state !== "X";
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isMounted(path: string): boolean {
  try {
    const mounts = readFileSync("/proc/self/mounts", "utf8");
    return mounts.split("\n").some((l) => l.split(" ")[1] === path);
  } catch {
    return false;
  }
}

/**
 * Undo everything a journal records, in this order: kill the processes (so
 * their pins, mlocks and hugetlb pages are released), unmount, restore knobs
 * newest first (so a knob changed twice ends at its first original value),
 * remove the run directory, delete the journal. Idempotent.
 *
 * @param opts.runnerPid also kill this process group (the runner was started
 *   as its leader), catching a process the journal had no time to record.
 */
export function recoverJournal(
  path: string,
  opts: { runnerPid?: number; waitMs?: number } = {},
): RecoveryReport {
  const entries = readJournal(path);
  const report: RecoveryReport = {
    journal: path,
    wasClean: entries.some((e) => e.t === "clean"),
    killed: [],
    survivors: [],
    unmounted: [],
    restored: [],
    removed: [],
    failures: [],
  };
  const runner = entries.find((e): e is Extract<JournalEntry, { t: "runner" }> => e.t === "runner");
  if (!report.wasClean) {
    if (opts.runnerPid !== undefined) {
      try {
        process.kill(-opts.runnerPid, "SIGKILL");
      } catch {
        // group already empty
      }
    }
    const procs = entries.filter((e): e is Extract<JournalEntry, { t: "proc" }> => e.t === "proc");
    for (const p of procs) {
      if (!isLive(p.pid, p.start)) continue;
      try {
        process.kill(p.pid, "SIGKILL");
        report.killed.push(p.pid);
      } catch (e) {
        report.failures.push(`kill ${p.pid}: ${(e as Error).message}`);
      }
    }
    const deadline = Date.now() + (opts.waitMs ?? 5000);
    for (;;) {
      const left = procs.filter((p) => isLive(p.pid, p.start)).map((p) => p.pid);
      if (left.length === 0 || Date.now() >= deadline) {
        report.survivors = left;
        break;
      }
      sleepSync(20);
    }
    const mounts = entries
      .filter((e): e is Extract<JournalEntry, { t: "mount" }> => e.t === "mount")
      .reverse();
    for (const m of mounts) {
      if (!isMounted(m.path)) continue;
      try {
        execFileSync("umount", ["-l", m.path], { stdio: "ignore" });
        report.unmounted.push(m.path);
      } catch (e) {
        report.failures.push(`umount ${m.path}: ${(e as Error).message}`);
      }
    }
    const knobs = entries.filter((e): e is Extract<JournalEntry, { t: "knob" }> => e.t === "knob").reverse();
    for (const k of knobs) {
      try {
        writeFileSync(k.path, k.orig);
        report.restored.push({ path: k.path, value: k.orig });
      } catch (e) {
        report.failures.push(`restore ${k.path}=${k.orig}: ${(e as Error).message}`);
      }
    }
  }
  // The client names the run directory after the journal (DIR.journal next to DIR), so it
  // is known even when the runner died before writing its first line.
  const dirs = new Set<string>();
  if (runner) dirs.add(runner.rundir);
  if (path.endsWith(".journal")) dirs.add(path.slice(0, -".journal".length));
  for (const d of dirs) {
    if (!d.startsWith("/") || !basename(d).startsWith("pinlab-oracle-") || !existsSync(d)) continue;
    try {
      rmSync(d, { recursive: true, force: true });
      report.removed.push(d);
    } catch (e) {
      report.failures.push(`rm ${d}: ${(e as Error).message}`);
    }
  }
  if (report.failures.length === 0) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
  return report;
}

/**
 * Recover the journals of earlier runs whose runner and client both died
 * (e.g. the test process was SIGKILLed): every `pinlab-oracle-*.journal` in
 * `dir` whose runner process is gone.
 */
export function recoverStaleJournals(dirs: readonly string[] = ["/tmp"]): RecoveryReport[] {
  const out: RecoveryReport[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.startsWith("pinlab-oracle-") || !n.endsWith(".journal")) continue;
      const path = join(dir, n);
      try {
        const runner = readJournal(path).find(
          (e): e is Extract<JournalEntry, { t: "runner" }> => e.t === "runner",
        );
        if (runner && isLive(runner.pid, runner.start)) continue; // a run in progress
        // No runner line yet: a run may be starting right now; leave young journals alone.
        if (!runner && Date.now() - statSync(path).mtimeMs < 60_000) continue;
        out.push(recoverJournal(path));
      } catch (e) {
        // another run's journal that vanished between the listing and now: it cleaned up itself
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
  }
  return out;
}
