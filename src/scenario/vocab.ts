/**
 * The language's vocabularies: one const list behind every name the parser
 * and checker accept (STYLE.md "one list is the source of truth"). Flag and
 * errno names come from src/kernel/include with the kernel's values; the
 * rest (actors, mount kinds, machine and process settings, zones) are
 * defined here once. Typo suggestions are drawn from these lists.
 */
import { DEFAULT_KCONFIG, type KconfigSwitches, type MachineConfig } from "../kernel/config.js";
import { ERRNO, type ErrnoName } from "../kernel/include/errno.js";
import { FOLL } from "../kernel/include/foll_flags.js";
import { FALLOC, MADV, MAP, MFD, MLOCK, MREMAP, O, PROT } from "../kernel/include/mman.js";
import { MPOL_MF } from "../kernel/include/mempolicy.js";
import { MIGRATE, ZONE } from "../kernel/include/mmzone.js";
import { CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_PTRACE } from "../kernel/kernel/task.js";
import { HAZARD_NAMES, type HazardName } from "../observe/hazard.js";

/** Statement keywords (the first word of a non-step line). */
export const STATEMENT_KEYWORDS = ["scenario", "kernel", "machine", "mount", "process", "assert"] as const;
export type StatementKeyword = (typeof STATEMENT_KEYWORDS)[number];

/** Kernels the model implements. `kernel linux-6.18` is the default. */
export const KERNEL_VERSIONS = ["linux-6.18"] as const;

/** Names with a fixed meaning everywhere: never a binding or a process. */
export const RESERVED_NAMES = ["NULL", "ok", "true", "false"] as const;

function pick<T extends Record<string, number>>(o: T, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => k.startsWith(prefix)));
}

/** include/uapi/linux/capability.h, the capabilities the model checks */
export const CAP = { CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_NICE } as const;

/**
 * Flag families: the names an argument of that family accepts, with the
 * kernel's values. MLOCK holds mlock2()'s MLOCK_ONFAULT, MCL mlockall()'s.
 */
export const FLAG_FAMILIES = {
  PROT,
  MAP,
  MADV,
  MREMAP,
  MLOCK: pick(MLOCK, "MLOCK_"),
  MCL: pick(MLOCK, "MCL_"),
  O,
  MFD,
  FALLOC,
  FOLL,
  MPOL_MF,
} as const satisfies Record<string, Record<string, number>>;
export type FlagFamily = keyof typeof FLAG_FAMILIES;
export const FLAG_FAMILY_NAMES = Object.keys(FLAG_FAMILIES) as FlagFamily[];

/** flag name → its family and value */
export const FLAGS: ReadonlyMap<string, { family: FlagFamily; value: number }> = new Map(
  FLAG_FAMILY_NAMES.flatMap((f) =>
    Object.entries(FLAG_FAMILIES[f] as Record<string, number>).map(
      ([name, value]) => [name, { family: f, value }] as const,
    ),
  ),
);

/** How a family's names read in messages: "PROT_* (PROT_READ, PROT_WRITE, …)". */
export function familyLabel(f: FlagFamily): string {
  return `${f}_*`;
}

export const ERRNO_NAMES = Object.keys(ERRNO) as ErrnoName[];
export function isErrnoName(s: string): s is ErrnoName {
  return Object.prototype.hasOwnProperty.call(ERRNO, s);
}

/** Zones, as `zone(A, buf)` returns them; `ZONE_` prefix and any case accepted. */
export const ZONES = Object.keys(ZONE) as (keyof typeof ZONE)[];
/** Migratetypes, as `migratetype(A, buf)` returns them; `MIGRATE_` prefix and any case accepted. */
export const MIGRATETYPES = Object.keys(MIGRATE) as (keyof typeof MIGRATE)[];
export type SymVocab = "zone" | "migratetype";
export const SYMBOLS: Record<SymVocab, readonly string[]> = { zone: ZONES, migratetype: MIGRATETYPES };

/** The canonical symbol (`MOVABLE`) for a spelling (`ZONE_MOVABLE`, `Movable`), or null. */
export function canonicalSymbol(vocab: SymVocab, word: string): string | null {
  const up = word.toUpperCase();
  const bare = up.startsWith(vocab === "zone" ? "ZONE_" : "MIGRATE_")
    ? up.replace(/^(ZONE_|MIGRATE_)/, "")
    : up;
  return SYMBOLS[vocab].includes(bare) ? bare : null;
}

export const HAZARDS_LIST: readonly HazardName[] = HAZARD_NAMES;

/** File-system kinds `mount` accepts (DESIGN.md; fs/inode.ts MOUNTABLE_FS_TYPES mirrors it). */
export const MOUNT_KINDS = ["ext4", "xfs", "btrfs", "tmpfs", "hugetlbfs", "fsdax"] as const;
export type MountKind = (typeof MOUNT_KINDS)[number];

/**
 * Kernel-side actors: `NAME: call(...)` where NAME is not a process.
 * "kernel" actors call kernel entry points (GUP, cma_alloc, writeback);
 * "device" actors do DMA through what a driver pinned.
 */
export const KERNEL_ACTORS = {
  kernel: { class: "kernel", doc: "the kernel itself (mm, writeback, CMA, hotplug)" },
  vfio: { class: "kernel", doc: "vfio type1 IOMMU driver (drivers/vfio/vfio_iommu_type1.c)" },
  rdma: { class: "kernel", doc: "RDMA umem (drivers/infiniband/core/umem.c)" },
  io_uring: { class: "kernel", doc: "io_uring fixed buffers (io_uring/rsrc.c)" },
  kvm: { class: "kernel", doc: "KVM guest memory (virt/kvm/kvm_main.c)" },
  xdp: { class: "kernel", doc: "AF_XDP umem (net/xdp/xdp_umem.c)" },
  v4l2: { class: "kernel", doc: "V4L2 / ivtv user DMA (drivers/media)" },
  gup_test: { class: "kernel", doc: "the gup_test module (mm/gup_test.c)" },
  dio: { class: "kernel", doc: "direct I/O (iov_iter_extract_pages)" },
  dev: { class: "device", doc: "a DMA device reading and writing through a pin" },
} as const;
export type KernelActor = keyof typeof KERNEL_ACTORS;
export type ActorClass = "process" | (typeof KERNEL_ACTORS)[KernelActor]["class"];
export const KERNEL_ACTOR_NAMES = Object.keys(KERNEL_ACTORS) as KernelActor[];
export function isKernelActor(s: string): s is KernelActor {
  return Object.prototype.hasOwnProperty.call(KERNEL_ACTORS, s);
}

// --- settings ---------------------------------------------------------------------

/** size: bytes with K/M/G/T; count: a whole number; bool: true/false/on/off/yes/no/1/0 */
export type SettingType = "size" | "count" | "bool" | "thp" | "overcommit";

type ConfigField = Exclude<keyof MachineConfig, "kconfig">;
type KconfigKey = `kconfig.${keyof KconfigSwitches}`;

export interface MachineKeySpec {
  /** the MachineConfig field it sets */
  field: ConfigField | KconfigKey;
  type: SettingType;
  doc: string;
}

const BASE_MACHINE_KEYS = {
  memory: { field: "memory", type: "size", doc: "physical memory, a multiple of 2M (default 4G)" },
  movable: {
    field: "movable",
    type: "size",
    doc: "ZONE_MOVABLE at the top of memory, like movablecore= (default 0)",
  },
  cma: { field: "cma", type: "size", doc: "the default CMA area, like cma= (default 0)" },
  thp: {
    field: "thp",
    type: "thp",
    doc: "transparent_hugepage/enabled: always, madvise or never (default madvise)",
  },
  "thp.zero_page": {
    field: "thpUseZeroPage",
    type: "bool",
    doc: "transparent_hugepage/use_zero_page (default true)",
  },
  "hugetlb.2M": { field: "hugetlb2M", type: "count", doc: "persistent 2M hugetlb pages (default 0)" },
  "hugetlb.1G": { field: "hugetlb1G", type: "count", doc: "persistent 1G hugetlb pages (default 0)" },
  "hugetlb.2M.overcommit": {
    field: "hugetlbOvercommit2M",
    type: "count",
    doc: "nr_overcommit_hugepages for 2M (default 0)",
  },
  memlock: { field: "memlockLimit", type: "size", doc: "RLIMIT_MEMLOCK of new processes (default 8M)" },
  overcommit: {
    field: "overcommitMemory",
    type: "overcommit",
    doc: "vm.overcommit_memory: 0, 1 or 2 (default 0)",
  },
  seed: { field: "seed", type: "count", doc: "seed of the kernel's nondeterministic choices (default 1)" },
  nodes: {
    field: "nodes",
    type: "count",
    doc: "NUMA nodes: memory split into this many equal nodes, 1 … 64 (default 1)",
  },
} as const satisfies Record<string, MachineKeySpec>;

/** Every MachineConfig field has a key: this fails to compile when config.ts grows a field. */
type Covered = (typeof BASE_MACHINE_KEYS)[keyof typeof BASE_MACHINE_KEYS]["field"];
const allFieldsCovered: Exclude<ConfigField, Covered> extends never ? true : false = true;
void allFieldsCovered;

/**
 * `machine` keys: the DESIGN.md spellings, the MachineConfig field names
 * themselves (memlockLimit, hugetlb2M, …) and `kconfig.NAME` for each
 * Kconfig switch.
 */
export const MACHINE_KEYS: ReadonlyMap<string, MachineKeySpec> = new Map<string, MachineKeySpec>([
  ...Object.entries(BASE_MACHINE_KEYS),
  ...Object.values(BASE_MACHINE_KEYS)
    .filter((s) => !Object.prototype.hasOwnProperty.call(BASE_MACHINE_KEYS, s.field))
    .map((s) => [s.field, s] as [string, MachineKeySpec]),
  ...(Object.keys(DEFAULT_KCONFIG) as (keyof KconfigSwitches)[]).map(
    (k) =>
      [`kconfig.${k}`, { field: `kconfig.${k}`, type: "bool", doc: `CONFIG_${k}` }] as [
        string,
        MachineKeySpec,
      ],
  ),
]);

/** `process NAME key=value…` options (Machine.spawn's SpawnOptions). */
export const PROCESS_KEYS = {
  uid: { type: "count", doc: "user id (default 0, root)" },
  memlock: { type: "size", doc: "RLIMIT_MEMLOCK in bytes (default: the machine's memlock)" },
  node: { type: "count", doc: "the NUMA node it runs on, where its memory is allocated first (default 0)" },
  caps: {
    type: "caps",
    doc: "capabilities: CAP_IPC_LOCK|CAP_SYS_ADMIN|CAP_SYS_PTRACE|CAP_SYS_NICE or none (default all four)",
  },
} as const;
export type ProcessKey = keyof typeof PROCESS_KEYS;
export function isProcessKey(s: string): s is ProcessKey {
  return Object.prototype.hasOwnProperty.call(PROCESS_KEYS, s);
}

export const BOOL_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  on: true,
  off: false,
  yes: true,
  no: false,
  y: true,
  n: false,
};

export const THP_MODES = ["always", "madvise", "never"] as const;
