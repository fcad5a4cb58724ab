/**
 * Which scenarios the live kernel can run (docs/oracle.md "Portability"):
 * every statement must be something user space can do on this machine —
 * a process call the native runner makes as a real system call or user
 * access, a mount of a file system it can make, a device access through an
 * io_uring fixed buffer (IORING_OP_WRITE_FIXED / READ_FIXED), a KSM scan
 * (wait for ksmd) — and the machine must be one the live kernel can be set
 * to (THP mode, hugetlb pools, KSM, overcommit are knobs; ZONE_MOVABLE, CMA,
 * Kconfig are not). Anything else makes the scenario "not portable", which
 * is reported, never a failure.
 *
 * Static: decided from the checked scenario alone. A few things can only be
 * seen at run time (a device access through a buffer whose process exited);
 * the kernel side reports those as not portable when it meets them.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_CONFIG, DEFAULT_KCONFIG, type KconfigSwitches } from "../kernel/config.js";
import type { CheckedScenario } from "../scenario/checker.js";
import { type CallName, CALLS, isCallName } from "../scenario/calls.js";
import type { Expr } from "../scenario/ast.js";
import { printStatement } from "../scenario/print.js";
import { isKernelActor } from "../scenario/vocab.js";

/** Machine-wide state a kernel run sets up (and the runner restores afterwards). */
export interface KernelSetup {
  /** /sys/kernel/mm/transparent_hugepage/enabled */
  thp: "always" | "madvise" | "never";
  /** transparent_hugepage/use_zero_page */
  thpZeroPage: boolean;
  /** free persistent hugetlb pages the scenario needs, per size; null: hugetlb unused */
  hugetlb2M: number | null;
  hugetlb1G: number | null;
  overcommitHugetlb2M: number | null;
  /** vm.overcommit_memory, when the scenario sets it */
  overcommitMemory: number | null;
  /** ksmd must run (the scenario scans) */
  ksm: boolean;
}

export interface NotPortableReason {
  line?: number;
  /** the statement, as printed */
  text?: string;
  why: string;
}

export interface Portability {
  portable: boolean;
  reasons: NotPortableReason[];
  setup: KernelSetup;
  /**
   * Machine-wide state the run changes or depends on (hugetlb pool, THP mode,
   * ksmd): such a run must not overlap another run (the oracle runs it alone).
   */
  global: string[];
  /** differences that do not prevent the comparison, printed with the report */
  notes: string[];
}

/** Process calls the native runner makes as real system calls (every process call of the language). */
export const PORTABLE_PROCESS_CALLS: ReadonlySet<CallName> = new Set(
  (Object.keys(CALLS) as CallName[]).filter((n) => CALLS[n].caller === "process"),
);

/** Kernel-side calls the live kernel can be asked for from user space. */
export const PORTABLE_KERNEL_CALLS: ReadonlySet<string> = new Set(["ksm_scan"]);

/** The flag names whose presence means the scenario uses hugetlb. */
const HUGETLB_FLAGS = new Set([
  "MAP_HUGETLB",
  "MFD_HUGETLB",
  "MAP_HUGE_2MB",
  "MAP_HUGE_1GB",
  "MFD_HUGE_2MB",
  "MFD_HUGE_1GB",
]);

function namesIn(e: Expr, out: Set<string>): void {
  switch (e.kind) {
    case "name":
      out.add(e.name);
      break;
    case "neg":
      namesIn(e.operand, out);
      break;
    case "binary":
      namesIn(e.left, out);
      namesIn(e.right, out);
      break;
    case "call":
      for (const a of e.args) namesIn(a, out);
      break;
    default:
      break;
  }
}

/** Decide whether the live kernel can run this (diagnostic-free) scenario, and what it must set up. */
export function portability(c: CheckedScenario): Portability {
  const reasons: NotPortableReason[] = [];
  const notes: string[] = [];
  const cfg = c.config;
  const line = (id: number) => c.sourceMap.get(id)?.line;
  const setup: KernelSetup = {
    thp: cfg.thp ?? DEFAULT_CONFIG.thp,
    thpZeroPage: cfg.thpUseZeroPage ?? DEFAULT_CONFIG.thpUseZeroPage,
    hugetlb2M: null,
    hugetlb1G: null,
    overcommitHugetlb2M: cfg.hugetlbOvercommit2M ?? null,
    overcommitMemory: cfg.overcommitMemory ?? null,
    ksm: false,
  };
  const machineLine = c.program.statements.find((s) => s.kind === "machine");
  const machineAt = machineLine ? line(machineLine.id) : undefined;
  if ((cfg.movable ?? 0) > 0)
    reasons.push({
      line: machineAt,
      why: "movable=: the live kernel's ZONE_MOVABLE is fixed at boot (movablecore=)",
    });
  const liveNodes = onlineNodes();
  if ((cfg.nodes ?? 1) > liveNodes)
    reasons.push({
      line: machineAt,
      why: `nodes=${cfg.nodes}: the live machine has ${liveNodes} NUMA node${liveNodes === 1 ? "" : "s"} with memory`,
    });
  if ((cfg.cma ?? 0) > 0)
    reasons.push({ line: machineAt, why: "cma=: the live kernel's CMA area is fixed at boot (cma=)" });
  for (const [k, v] of Object.entries(cfg.kconfig ?? {}))
    if (v !== DEFAULT_KCONFIG[k as keyof KconfigSwitches])
      reasons.push({ line: machineAt, why: `kconfig.${k}: the live kernel's configuration is fixed` });
  if (cfg.memory !== undefined && cfg.memory !== DEFAULT_CONFIG.memory)
    notes.push(
      "memory=: the live machine's memory size is its own; no result of this scenario may depend on it",
    );

  let usesHugetlb =
    (cfg.hugetlb2M ?? 0) > 0 || (cfg.hugetlb1G ?? 0) > 0 || (cfg.hugetlbOvercommit2M ?? 0) > 0;
  let usesMergeable = false;
  const mounts: string[] = [];
  const bindingCall = new Map<string, string>();

  for (const s of c.program.statements) {
    const here = { line: line(s.id), text: printStatement(s) };
    switch (s.kind) {
      case "mount":
        if (s.fs.name === "ext4" || s.fs.name === "tmpfs" || s.fs.name === "hugetlbfs")
          mounts.push(s.path.value);
        else
          reasons.push({
            ...here,
            why: `mount ${s.fs.name}: the live machine offers ext4 (a directory on its ext4 run directory), tmpfs and hugetlbfs only`,
          });
        if (s.fs.name === "hugetlbfs") usesHugetlb = true;
        break;
      case "process": {
        const opts = c.spawn.get(s.id) ?? {};
        if (Object.keys(opts).length > 0)
          reasons.push({
            ...here,
            why: "process settings (uid, caps, memlock): the runner's processes run as root with every capability",
          });
        break;
      }
      case "step": {
        const actor = s.actor.name;
        const call = s.call.callee.name;
        const names = new Set<string>();
        for (const a of s.call.args) namesIn(a, names);
        for (const n of names) if (HUGETLB_FLAGS.has(n)) usesHugetlb = true;
        if (names.has("MADV_MERGEABLE") || names.has("MADV_UNMERGEABLE")) usesMergeable = true;
        if (!isCallName(call)) {
          reasons.push({ ...here, why: `unknown call ${call}` });
          break;
        }
        if (isKernelActor(actor)) {
          if (actor === "dev") {
            const h = s.call.args[0];
            const bound = h?.kind === "name" ? bindingCall.get(h.name) : undefined;
            if (bound !== "io_uring_register_buffers")
              reasons.push({
                ...here,
                why: "a device access is portable only through an io_uring fixed buffer (IORING_OP_WRITE_FIXED reads it, READ_FIXED writes it); this handle comes from a kernel-side pin",
              });
          } else if (actor === "kernel" && PORTABLE_KERNEL_CALLS.has(call)) {
            setup.ksm = true;
          } else
            reasons.push({
              ...here,
              why: `\`${actor}: ${call}\` is a kernel-side actor the live kernel cannot be driven to from user space`,
            });
        } else if (!PORTABLE_PROCESS_CALLS.has(call)) {
          reasons.push({ ...here, why: `${call} is not a process call` });
        } else if (call === "open") {
          const p = s.call.args[0];
          const path = p?.kind === "str" || p?.kind === "path" ? p.value : "";
          const onMount = mounts.some((m) => path === m || path.startsWith(m.endsWith("/") ? m : m + "/"));
          if (path !== "/proc/self/mem" && !onMount)
            reasons.push({
              ...here,
              why: `open(${JSON.stringify(path)}): only files under the scenario's mounts and /proc/self/mem are portable (a model pid in /proc/PID/mem means nothing on the live machine)`,
            });
        }
        if (s.binding) bindingCall.set(s.binding.name, call);
        break;
      }
      default:
        break;
    }
  }
  if (usesHugetlb) {
    // The pool is machine-wide: set it to exactly what the modelled machine has free.
    setup.hugetlb2M = cfg.hugetlb2M ?? 0;
    setup.hugetlb1G = cfg.hugetlb1G ?? 0;
  }
  const global: string[] = [];
  if (usesHugetlb) global.push("the hugetlb pool");
  if (setup.thp !== DEFAULT_CONFIG.thp || setup.thpZeroPage !== DEFAULT_CONFIG.thpUseZeroPage)
    global.push("the THP mode");
  if (setup.ksm || usesMergeable) global.push("ksmd");
  if (setup.overcommitMemory !== null || setup.overcommitHugetlb2M !== null) global.push("overcommit");
  return { portable: reasons.length === 0, reasons, setup, global, notes };
}

/** NUMA nodes with memory on this machine (/sys/devices/system/node/has_memory, e.g. "0-1"); 1 if unknown. */
export function onlineNodes(text?: string): number {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync("/sys/devices/system/node/has_memory", "utf8");
    } catch {
      return 1;
    }
  }
  let n = 0;
  for (const part of t.trim().split(",")) {
    if (!part) continue;
    const [lo, hi] = part.split("-").map(Number);
    n += hi === undefined ? 1 : hi - lo + 1;
  }
  return Math.max(1, n);
}
