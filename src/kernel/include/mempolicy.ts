/**
 * include/uapi/linux/mempolicy.h: the MPOL_MF_* flags of mbind(2) and
 * move_pages(2). move_pages() accepts only MPOL_MF_MOVE and MPOL_MF_MOVE_ALL
 * (kernel_move_pages(): anything else is -EINVAL).
 */
export const MPOL_MF = {
  /** verify existing pages in the mapping (mbind only) */
  MPOL_MF_STRICT: 1 << 0,
  /** move pages owned by this process only */
  MPOL_MF_MOVE: 1 << 1,
  /** move every page, also those other processes map (CAP_SYS_NICE) */
  MPOL_MF_MOVE_ALL: 1 << 2,
} as const;
export const { MPOL_MF_STRICT, MPOL_MF_MOVE, MPOL_MF_MOVE_ALL } = MPOL_MF;
