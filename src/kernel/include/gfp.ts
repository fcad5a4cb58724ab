/**
 * GFP flags (include/linux/gfp_types.h), the subset the model's allocations use.
 * Values are the model's own; the meanings and the composite masks are the kernel's.
 */
export const __GFP_DMA32 = 1 << 0;
/** may come from ZONE_MOVABLE (with __GFP_MOVABLE: GFP_HIGHUSER_MOVABLE) */
export const __GFP_HIGHMEM = 1 << 1;
/** the allocation can be migrated: MIGRATE_MOVABLE free lists, CMA allowed */
export const __GFP_MOVABLE = 1 << 2;
export const __GFP_RECLAIMABLE = 1 << 3;
export const __GFP_ZERO = 1 << 4;
export const __GFP_COMP = 1 << 5;
export const __GFP_NOWARN = 1 << 6;
export const __GFP_NORETRY = 1 << 7;
/** only the preferred node: no fallback along the zonelist to other nodes */
export const __GFP_THISNODE = 1 << 8;

export const GFP_KERNEL = 0;
export const GFP_USER = 0;
export const GFP_HIGHUSER = __GFP_HIGHMEM;
export const GFP_HIGHUSER_MOVABLE = __GFP_HIGHMEM | __GFP_MOVABLE;
/** include/linux/gfp_types.h: GFP_TRANSHUGE_LIGHT/GFP_TRANSHUGE are movable compound */
export const GFP_TRANSHUGE = GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY;
