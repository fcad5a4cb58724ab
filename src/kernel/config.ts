/**
 * Machine configuration: what a kernel command line, sysfs and Kconfig would
 * set. Every field is documented with its default; sizes are in bytes.
 */
import { PinlabError } from "./errors.js";
import { HPAGE_PMD_SIZE, MAX_NUMNODES, PAGE_SIZE } from "./include/mmzone.js";

export type ThpMode = "always" | "madvise" | "never";

export interface KconfigSwitches {
  /** CONFIG_CMA (default true, so `cma=` works; the reference machine has it off) */
  CMA: boolean;
  /** CONFIG_MIGRATION (default true): without it nothing is migrated and every folio is longterm-pinnable */
  MIGRATION: boolean;
  /** CONFIG_TRANSPARENT_HUGEPAGE (default true) */
  TRANSPARENT_HUGEPAGE: boolean;
  /** CONFIG_DEBUG_VM (default false): VM_BUG_ON conditions become oopses */
  DEBUG_VM: boolean;
  /** CONFIG_HAVE_GUP_FAST (default true) */
  HAVE_GUP_FAST: boolean;
  /** CONFIG_SECRETMEM (default true) */
  SECRETMEM: boolean;
  /** CONFIG_KSM (default true) */
  KSM: boolean;
}

export interface MachineConfig {
  /** physical memory (default 4 GiB); a multiple of 2 MiB, at least 64 MiB, at most 64 TiB */
  memory: number;
  /** ZONE_MOVABLE at the top of memory, like movablecore= (default 0) */
  movable: number;
  /** the default CMA area, like cma= (default 0); placed just below ZONE_MOVABLE */
  cma: number;
  /** /sys/kernel/mm/transparent_hugepage/enabled (default "madvise", as on the reference machine) */
  thp: ThpMode;
  /** transparent_hugepage/use_zero_page (default true) */
  thpUseZeroPage: boolean;
  /** persistent 2 MiB hugetlb pages (vm.nr_hugepages, default 0) */
  hugetlb2M: number;
  /** persistent 1 GiB hugetlb pages (default 0) */
  hugetlb1G: number;
  /** nr_overcommit_hugepages for 2 MiB (default 0) */
  hugetlbOvercommit2M: number;
  /** RLIMIT_MEMLOCK soft limit of new processes, bytes (default 8 MiB) */
  memlockLimit: number;
  /** vm.overcommit_memory (default 0: heuristic) */
  overcommitMemory: 0 | 1 | 2;
  /** seed of the PRNG behind the kernel's nondeterministic choices (default 1) */
  seed: number;
  /**
   * NUMA nodes (default 1): memory is split into this many equal, contiguous
   * nodes, each with its own zones (struct pglist_data), like a machine whose
   * SRAT gives each socket one memory range. 1 … MAX_NUMNODES (64).
   */
  nodes: number;
  kconfig: KconfigSwitches;
}

export const DEFAULT_KCONFIG: KconfigSwitches = {
  CMA: true,
  MIGRATION: true,
  TRANSPARENT_HUGEPAGE: true,
  DEBUG_VM: false,
  HAVE_GUP_FAST: true,
  SECRETMEM: true,
  KSM: true,
};

export const DEFAULT_CONFIG: MachineConfig = {
  memory: 4 * 1024 ** 3,
  movable: 0,
  cma: 0,
  thp: "madvise",
  thpUseZeroPage: true,
  hugetlb2M: 0,
  hugetlb1G: 0,
  hugetlbOvercommit2M: 0,
  memlockLimit: 8 * 1024 * 1024,
  overcommitMemory: 0,
  seed: 1,
  nodes: 1,
  kconfig: DEFAULT_KCONFIG,
};

export type MachineConfigInput = Partial<Omit<MachineConfig, "kconfig">> & {
  kconfig?: Partial<KconfigSwitches>;
};

/** The first 4 MiB hold the kernel image, the zero page and other reserved memory. */
export const RESERVED_LOW_BYTES = 4 * 1024 * 1024;
export const MAX_MEMORY = 64 * 1024 ** 4;

export function resolveConfig(input: MachineConfigInput = {}): MachineConfig {
  const c: MachineConfig = {
    ...DEFAULT_CONFIG,
    ...input,
    kconfig: { ...DEFAULT_KCONFIG, ...(input.kconfig ?? {}) },
  };
  const mb2 = HPAGE_PMD_SIZE;
  const need = (ok: boolean, msg: string) => {
    if (!ok) throw new PinlabError(`machine: ${msg}`);
  };
  for (const k of ["memory", "movable", "cma", "memlockLimit"] as const)
    need(Number.isSafeInteger(c[k]) && c[k] >= 0, `${k}=${c[k]} must be a whole number of bytes ≥ 0`);
  for (const k of ["hugetlb2M", "hugetlb1G", "hugetlbOvercommit2M", "seed"] as const)
    need(Number.isSafeInteger(c[k]) && c[k] >= 0, `${k}=${c[k]} must be a whole number ≥ 0`);
  need(c.memory >= 64 * 1024 * 1024, `memory=${c.memory} is below the 64M minimum; use e.g. memory=4G`);
  need(c.memory <= MAX_MEMORY, `memory=${c.memory} is above the 64T the model supports`);
  need(c.memory % mb2 === 0, `memory must be a multiple of 2M (got ${c.memory} bytes)`);
  need(c.movable % mb2 === 0, `movable must be a multiple of 2M (got ${c.movable} bytes)`);
  need(c.cma % mb2 === 0, `cma must be a multiple of 2M, the pageblock size (got ${c.cma} bytes)`);
  need(c.cma === 0 || c.kconfig.CMA, "cma= needs CONFIG_CMA; drop cma= or enable kconfig.CMA");
  need(
    c.movable + c.cma + RESERVED_LOW_BYTES + 32 * 1024 * 1024 <= c.memory,
    `movable (${c.movable}) + cma (${c.cma}) leave less than 32M of kernel memory out of ${c.memory}; lower them`,
  );
  need(
    ["always", "madvise", "never"].includes(c.thp),
    `thp=${String(c.thp)}: expected always, madvise or never`,
  );
  const hugeBytes = c.hugetlb2M * mb2 + c.hugetlb1G * 1024 ** 3;
  need(
    hugeBytes <= c.memory - RESERVED_LOW_BYTES - 32 * 1024 * 1024,
    `hugetlb pools (${hugeBytes} bytes) do not fit in memory=${c.memory}; lower hugetlb.2M/hugetlb.1G`,
  );
  need(
    Number.isSafeInteger(c.nodes) && c.nodes >= 1 && c.nodes <= MAX_NUMNODES,
    `nodes=${c.nodes} must be a whole number from 1 to ${MAX_NUMNODES} (MAX_NUMNODES); use e.g. nodes=2`,
  );
  const nodeBytes = c.memory / c.nodes;
  need(
    nodeBytes % mb2 === 0 && nodeBytes >= 32 * 1024 * 1024,
    `memory=${c.memory} split into nodes=${c.nodes} gives nodes of ${nodeBytes} bytes; each node must be a multiple of 2M and at least 32M: lower nodes or raise memory`,
  );
  // gup's ZONE_MOVABLE test (folio_is_longterm_pinnable(), gup_fast) knows one
  // movable range; with several nodes the kernel would spread movablecore= over them.
  need(
    c.nodes === 1 || c.movable === 0,
    `movable= with nodes=${c.nodes} is not modelled (ZONE_MOVABLE would span nodes); drop movable= or use nodes=1`,
  );
  need(PAGE_SIZE === 4096, "page size");
  return c;
}
