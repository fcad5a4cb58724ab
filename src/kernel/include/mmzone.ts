/**
 * Zones, migratetypes and orders: include/linux/mmzone.h, include/linux/pageblock-flags.h
 * (x86-64, CONFIG_ZONE_DMA32), and the node limits of include/linux/numa.h.
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** include/linux/mmzone.h: MAX_PAGE_ORDER (NR_PAGE_ORDERS = 11) */
export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
/** pageblock_order = min(HPAGE_PMD_ORDER, MAX_PAGE_ORDER) = 9 on x86-64 */
export const pageblock_order = 9;
export const pageblock_nr_pages = 1 << pageblock_order;
/** HPAGE_PMD_ORDER / HPAGE_PUD_ORDER on x86-64 */
export const HPAGE_PMD_ORDER = 9;
export const HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;
export const HPAGE_PMD_SIZE = HPAGE_PMD_NR * PAGE_SIZE;
export const HPAGE_PUD_ORDER = 18;
export const HPAGE_PUD_NR = 1 << HPAGE_PUD_ORDER;
export const HPAGE_PUD_SIZE = HPAGE_PUD_NR * PAGE_SIZE;

/** enum zone_type (ZONE_DMA is folded into DMA32 in the model: nothing asks for it) */
export const ZONE = { DMA32: 0, NORMAL: 1, MOVABLE: 2 } as const;
export type ZoneId = (typeof ZONE)[keyof typeof ZONE];
export const ZONE_NAMES = ["DMA32", "Normal", "Movable"] as const;
export const MAX_NR_ZONES = 3;
/** include/linux/numa.h: 1 << CONFIG_NODES_SHIFT (6 on x86-64 without MAXSMP) */
export const MAX_NUMNODES = 64;
/** include/linux/numa.h: "no preference" in node arguments */
export const NUMA_NO_NODE = -1;
/** ZONE_DMA32 spans the first 4 GiB of physical memory. */
export const DMA32_END_PFN = (4 * 1024 * 1024 * 1024) / PAGE_SIZE;

/** enum migratetype */
export const MIGRATE = {
  UNMOVABLE: 0,
  MOVABLE: 1,
  RECLAIMABLE: 2,
  /** MIGRATE_PCPTYPES = 3: the types with per-cpu lists, mergeable with each other */
  CMA: 3,
  ISOLATE: 4,
} as const;
export type MigrateType = (typeof MIGRATE)[keyof typeof MIGRATE];
export const MIGRATE_TYPES = 5;
export const MIGRATE_PCPTYPES = 3;
export const MIGRATETYPE_NAMES = ["Unmovable", "Movable", "Reclaimable", "CMA", "Isolate"] as const;

/** mm/page_alloc.c: fallbacks[] — the order in which other free lists are raided */
export const FALLBACKS: readonly (readonly MigrateType[])[] = [
  [MIGRATE.RECLAIMABLE, MIGRATE.MOVABLE], // UNMOVABLE
  [MIGRATE.RECLAIMABLE, MIGRATE.UNMOVABLE], // MOVABLE
  [MIGRATE.UNMOVABLE, MIGRATE.MOVABLE], // RECLAIMABLE
];
