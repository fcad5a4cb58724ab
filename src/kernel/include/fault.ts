/**
 * Page-fault flags and results: include/linux/mm_types.h (enum fault_flag, vm_fault_reason).
 */
export const FAULT_FLAG = {
  WRITE: 1 << 0,
  MKWRITE: 1 << 1,
  ALLOW_RETRY: 1 << 2,
  RETRY_NOWAIT: 1 << 3,
  KILLABLE: 1 << 4,
  TRIED: 1 << 5,
  USER: 1 << 6,
  REMOTE: 1 << 7,
  INSTRUCTION: 1 << 8,
  INTERRUPTIBLE: 1 << 9,
  /** GUP wants a R/O pin on a possibly shared anon page: break COW, map R/O */
  UNSHARE: 1 << 10,
  ORIG_PTE_VALID: 1 << 11,
  VMA_LOCK: 1 << 12,
} as const;

export const VM_FAULT = {
  OOM: 0x000001,
  SIGBUS: 0x000002,
  MAJOR: 0x000004,
  HWPOISON: 0x000010,
  HWPOISON_LARGE: 0x000020,
  SIGSEGV: 0x000040,
  NOPAGE: 0x000100,
  LOCKED: 0x000200,
  RETRY: 0x000400,
  FALLBACK: 0x000800,
  DONE_COW: 0x001000,
  NEEDDSYNC: 0x002000,
  COMPLETED: 0x004000,
} as const;

/** include/linux/mm_types.h: VM_FAULT_ERROR */
export const VM_FAULT_ERROR =
  VM_FAULT.OOM |
  VM_FAULT.SIGBUS |
  VM_FAULT.SIGSEGV |
  VM_FAULT.HWPOISON |
  VM_FAULT.HWPOISON_LARGE |
  VM_FAULT.FALLBACK;
