/**
 * Kernel: the state of one booted model kernel — memmap, zones, hugetlb pools,
 * tasks, files, counters — and the boot sequence that lays memory out from a
 * MachineConfig. Subsystem modules are functions taking it as their first
 * argument, the way kernel code reaches its globals.
 */
import { KernelOops } from "./errors.js";
import { type MachineConfig, RESERVED_LOW_BYTES } from "./config.js";
import { __GFP_ZERO, GFP_KERNEL } from "./include/gfp.js";
import { DMA32_END_PFN, HPAGE_PMD_ORDER, MIGRATE, PAGE_SIZE, ZONE, type ZoneId } from "./include/mmzone.js";
import { PG } from "./include/page_flags.js";
import { MemMap, NIL } from "./mm/memmap.js";
import { AnonVma, type VmArea } from "./mm/mm_types.js";
import { PageAlloc, type Zone } from "./mm/page_alloc.js";
import { VmStat } from "./mm/vmstat.js";
import { type HState, free_huge_folio, hugetlb_boot } from "./mm/hugetlb.js";
import { PF_MEMALLOC_PIN, type Task } from "./kernel/task.js";
import { NondetChoices } from "./nondet.js";
import { type Rng, Xoshiro128 } from "./rng.js";
import { Tracer } from "./tracepoint.js";

/** What an rmap walk of a file folio needs from its address_space. */
export interface AddressSpaceRef {
  readonly id: number;
  /** i_mmap: every VMA mapping the file */
  readonly i_mmap: Set<VmArea>;
  /** i_pages: page index → folio head pfn (a huge folio at its first base-page index) */
  readonly i_pages: Map<number, number>;
}

/** struct user_struct: per-uid accounting */
export interface UserStruct {
  uid: number;
  /** user->locked_vm, pages */
  locked_vm: number;
}

type IdKind = "mm" | "anonVma" | "pid" | "mapping";

export class Kernel {
  readonly memmap: MemMap;
  readonly pa: PageAlloc;
  readonly vmstat = new VmStat();
  readonly trace = new Tracer();
  readonly rng: Rng;
  /** the shared zero page (empty_zero_page) */
  readonly zeroPfn: number;
  /** the huge zero folio, allocated on first use (mm_get_huge_zero_folio()) */
  hugeZeroPfn = NIL;
  hstates: HState[] = [];
  readonly tasks = new Map<number, Task>();
  /** the task whose context kernel code runs in (current) */
  current: Task | null = null;
  readonly anonVmas = new Map<number, AnonVma>();
  readonly mappings = new Map<number, AddressSpaceRef>();
  readonly users = new Map<number, UserStruct>();
  /** anon THPs partially unmapped, waiting for deferred_split_scan() (deferred_split_queue) */
  readonly deferredSplit = new Set<number>();
  /** set once a BUG() fired: the machine is halted */
  oops: KernelOops | null = null;
  /** the kernel's nondeterministic choices in this run (./nondet.ts) */
  nondet = new NondetChoices();
  /** WARN_ON_ONCE sites that already fired */
  readonly warned = new Set<string>();
  private readonly nextIds: Record<IdKind, number> = { mm: 1, anonVma: 1, pid: 1, mapping: 1 };

  constructor(readonly config: MachineConfig) {
    this.rng = new Xoshiro128(config.seed);
    const nrPages = config.memory / PAGE_SIZE;
    this.memmap = new MemMap(nrPages);
    this.pa = new PageAlloc(this.memmap, {
      cmaEnabled: config.kconfig.CMA,
      memallocPin: () => this.current !== null && (this.current.flags & PF_MEMALLOC_PIN) !== 0,
      localNode: () => (this.current !== null ? this.current.numa_node : 0),
    });
    this.zeroPfn = this.bootMemory();
    hugetlb_boot(this);
  }

  /**
   * Lay out nodes (config.nodes equal ranges) and their zones (DMA32 below
   * 4 GiB, Normal, Movable at the top like movablecore=), reserve the low
   * 4 MiB, place the CMA area just below ZONE_MOVABLE, and free the rest to
   * the buddy allocator. Returns the zero page's pfn. A node's zone is the
   * zone's range clipped to the node, as free_area_init() computes it.
   */
  private bootMemory(): number {
    const c = this.config;
    const nrPages = this.memmap.nrPages;
    const movableStart = nrPages - c.movable / PAGE_SIZE;
    const cmaStart = movableStart - c.cma / PAGE_SIZE;
    const reservedEnd = RESERVED_LOW_BYTES / PAGE_SIZE;
    const dma32End = Math.min(DMA32_END_PFN, movableStart);
    const ranges: [ZoneId, number, number][] = [
      [ZONE.DMA32, 0, dma32End],
      [ZONE.NORMAL, dma32End, movableStart],
      [ZONE.MOVABLE, movableStart, nrPages],
    ];
    const nodePages = nrPages / c.nodes;
    const zones: Zone[] = [];
    for (let nid = 0; nid < c.nodes; nid++) {
      const ns = nid * nodePages;
      const ne = ns + nodePages;
      this.pa.addNode(ns, ne);
      const clip = (p: number) => Math.min(ne, Math.max(ns, p));
      for (const [zid, zs, ze] of ranges) zones.push(this.pa.addZone(zid, clip(zs), clip(ze), nid));
    }
    // memblock reservations: kernel image, low memory, the zero page
    for (let p = 0; p < reservedEnd; p++) {
      this.memmap.setFlagsWord(p, PG.reserved);
      this.memmap.setRefcount(p, 1);
    }
    this.pa.setPageblockMt(0, reservedEnd, MIGRATE.UNMOVABLE);
    const zeroPfn = reservedEnd - 1;
    this.memmap.setContent(zeroPfn, 0);
    for (const z of zones) {
      if (z.id === ZONE.MOVABLE) {
        if (z.spannedPages > 0) this.pa.freeBootRange(z, z.startPfn, z.endPfn, MIGRATE.MOVABLE);
        continue;
      }
      const lo = Math.max(z.startPfn, reservedEnd);
      const plainEnd = Math.max(lo, Math.min(z.endPfn, cmaStart));
      if (plainEnd > lo) this.pa.freeBootRange(z, lo, plainEnd, MIGRATE.MOVABLE);
      const cmaLo = Math.max(lo, cmaStart);
      if (z.endPfn > cmaLo && c.cma > 0) this.pa.freeBootRange(z, cmaLo, z.endPfn, MIGRATE.CMA);
    }
    this.cmaRange = c.cma > 0 ? [cmaStart, movableStart] : null;
    return zeroPfn;
  }

  /** [start, end) pfns of the default CMA area, or null */
  cmaRange: [number, number] | null = null;

  newId(kind: IdKind): number {
    return this.nextIds[kind]++;
  }

  newAnonVma(parent: AnonVma | null): AnonVma {
    const av = new AnonVma(this.newId("anonVma"), parent);
    this.anonVmas.set(av.id, av);
    return av;
  }

  user(uid: number): UserStruct {
    let u = this.users.get(uid);
    if (!u) this.users.set(uid, (u = { uid, locked_vm: 0 }));
    return u;
  }

  /** Free a folio whose refcount reached zero (__folio_put()). */
  freeFolio(folio: number): void {
    const mm = this.memmap;
    this.deferredSplit.delete(folio); // folio_unqueue_deferred_split()
    if (mm.test(folio, PG.reserved)) {
      this.bug("mm/swap.c: __folio_put()", `freeing reserved page ${folio}`);
      return;
    }
    if (mm.test(folio, PG.hugetlb)) {
      free_huge_folio(this, folio);
      return;
    }
    // __folio_put() takes the folio off the LRU; one still mapped is a bad page state
    if (mm.mapcount(folio) !== 0)
      this.warn("mm/page_alloc.c: free_page_is_bad()", `freeing mapped folio ${folio}`);
    this.pa.__free_pages(folio, mm.order(folio));
  }

  /** The huge zero folio (mm/huge_memory.c: get_huge_zero_folio()), allocated once, unmovable. */
  getHugeZeroFolio(): number {
    if (this.hugeZeroPfn === NIL) {
      const pfn = this.pa.alloc_pages(GFP_KERNEL | __GFP_ZERO, HPAGE_PMD_ORDER, PG.reserved);
      if (pfn === NIL) return NIL;
      this.hugeZeroPfn = pfn;
      this.vmstat.thp_zero_page_alloc++;
    }
    return this.hugeZeroPfn;
  }

  /** BUG(): halt the machine. Callers return an error afterwards. */
  bug(where: string, message: string): void {
    if (this.oops) return;
    this.oops = new KernelOops(where, message);
    this.trace.emit("oops", where, { message });
  }

  /** WARN_ON_ONCE(): reported once per site, the machine goes on. */
  warn(where: string, message: string): void {
    this.trace.emit("warn", where, { message, once: !this.warned.has(where) });
    this.warned.add(where);
  }

  /** Run fn with `current` set to task (the kernel executing on its behalf). */
  asTask<T>(task: Task | null, fn: () => T): T {
    const prev = this.current;
    this.current = task;
    try {
      return fn();
    } finally {
      this.current = prev;
    }
  }
}
