/**
 * User-visible flag values of x86-64 Linux: include/uapi/asm-generic/mman-common.h,
 * include/uapi/linux/mman.h, include/uapi/asm-generic/fcntl.h, include/uapi/linux/memfd.h,
 * include/uapi/linux/falloc.h. Each group is one const list: the scenario parser's names
 * and "did you mean" suggestions come from these.
 */
export const PROT = {
  PROT_NONE: 0x0,
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  PROT_EXEC: 0x4,
} as const;

export const MAP = {
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_SHARED_VALIDATE: 0x03,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_ANON: 0x20,
  MAP_GROWSDOWN: 0x100,
  MAP_DENYWRITE: 0x800,
  MAP_EXECUTABLE: 0x1000,
  MAP_LOCKED: 0x2000,
  MAP_NORESERVE: 0x4000,
  MAP_POPULATE: 0x8000,
  MAP_NONBLOCK: 0x10000,
  MAP_STACK: 0x20000,
  MAP_HUGETLB: 0x40000,
  MAP_SYNC: 0x80000,
  MAP_FIXED_NOREPLACE: 0x100000,
  /** include/uapi/asm-generic/hugetlb_encode.h: log2(size) << MAP_HUGE_SHIFT */
  MAP_HUGE_2MB: 21 << 26,
  MAP_HUGE_1GB: 30 << 26,
} as const;
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_MASK = 0x3f;
export const MAP_TYPE = 0x0f;

export const MADV = {
  MADV_NORMAL: 0,
  MADV_RANDOM: 1,
  MADV_SEQUENTIAL: 2,
  MADV_WILLNEED: 3,
  MADV_DONTNEED: 4,
  MADV_FREE: 8,
  MADV_REMOVE: 9,
  MADV_DONTFORK: 10,
  MADV_DOFORK: 11,
  MADV_MERGEABLE: 12,
  MADV_UNMERGEABLE: 13,
  MADV_HUGEPAGE: 14,
  MADV_NOHUGEPAGE: 15,
  MADV_DONTDUMP: 16,
  MADV_DODUMP: 17,
  MADV_WIPEONFORK: 18,
  MADV_KEEPONFORK: 19,
  MADV_COLD: 20,
  MADV_PAGEOUT: 21,
  MADV_POPULATE_READ: 22,
  MADV_POPULATE_WRITE: 23,
  MADV_DONTNEED_LOCKED: 24,
  MADV_COLLAPSE: 25,
} as const;

export const MREMAP = {
  MREMAP_MAYMOVE: 1,
  MREMAP_FIXED: 2,
  MREMAP_DONTUNMAP: 4,
} as const;

export const MLOCK = {
  MLOCK_ONFAULT: 0x01,
  MCL_CURRENT: 1,
  MCL_FUTURE: 2,
  MCL_ONFAULT: 4,
} as const;

/** include/uapi/asm-generic/fcntl.h (octal in the header) */
export const O = {
  O_RDONLY: 0o0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_DIRECT: 0o40000,
  O_LARGEFILE: 0o100000,
  O_CLOEXEC: 0o2000000,
} as const;
export const O_ACCMODE = 0o3;

export const MFD = {
  MFD_CLOEXEC: 0x1,
  MFD_ALLOW_SEALING: 0x2,
  MFD_HUGETLB: 0x4,
  MFD_NOEXEC_SEAL: 0x8,
  MFD_EXEC: 0x10,
  MFD_HUGE_2MB: 21 << 26,
  MFD_HUGE_1GB: 30 << 26,
} as const;

export const FALLOC = {
  FALLOC_FL_KEEP_SIZE: 0x01,
  FALLOC_FL_PUNCH_HOLE: 0x02,
  FALLOC_FL_ZERO_RANGE: 0x10,
} as const;

export const { PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC } = PROT;
export const {
  MAP_SHARED,
  MAP_PRIVATE,
  MAP_SHARED_VALIDATE,
  MAP_FIXED,
  MAP_ANONYMOUS,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_HUGETLB,
  MAP_FIXED_NOREPLACE,
  MAP_HUGE_2MB,
  MAP_HUGE_1GB,
} = MAP;
export const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_DIRECT } = O;
export const { MFD_HUGETLB, MFD_HUGE_2MB, MFD_HUGE_1GB } = MFD;
export const { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE } = FALLOC;
