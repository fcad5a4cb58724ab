/**
 * accounting_drift — DESIGN.md "Hazards": pinned_vm, locked_vm or the
 * user's locked_vm disagree with the pins held.
 *
 * Watches: the drivers' charges — `io_uring_register` (mm->pinned_vm and,
 * without CAP_IPC_LOCK, user->locked_vm: io_account_mem()),
 * `ib_umem_get` (mm->pinned_vm), `vfio_map_dma` (mm->locked_vm:
 * vfio_lock_acct()), `xdp_umem_reg` (user->locked_vm) — and their releases
 * (`io_uring_unregister`, `pin_release`).
 * Keeps: a ledger of what each live pin was charged, by mm and by user.
 * Finds, at the end of each step, a counter that differs from what the
 * ledger says it must be: per live mm, pinned_vm = the pins charged to it,
 * locked_vm = its VM_LOCKED VMAs (mlock, MAP_LOCKED, secretmem) + vfio's
 * charges; per user, locked_vm = io_uring's and XDP's charges. Reported once
 * per counter each time the difference changes. The model accounts like the
 * kernel, so this fires only on real drift — a charge given back twice, or
 * never.
 * Rule: the accounting function of the counter (below).
 */
import { VM_LOCKED } from "../kernel/include/vm_flags.js";
import type { MmStruct } from "../kernel/mm/mm_types.js";
import type { DetectorContext, HazardDetector } from "./hazard.js";
import { describeAll, num, pinRecord, provenanceOf } from "./provenance.js";

const RULES = {
  pinned_vm:
    "mm->pinned_vm: io_uring/rsrc.c: io_account_mem() and drivers/infiniband/core/umem.c: ib_umem_get() charge it per pin and give it back at release",
  locked_vm:
    "mm->locked_vm: mm/mlock.c: mlock_fixup() counts VM_LOCKED VMAs, drivers/vfio/vfio_iommu_type1.c: vfio_lock_acct() charges vfio's pins",
  user_locked_vm:
    "user->locked_vm: io_uring/rsrc.c: __io_account_mem() and net/xdp/xdp_umem.c: xdp_umem_account_pages() charge it without CAP_IPC_LOCK",
} as const;

/** What one pin was charged. */
interface Charge {
  /** mm id charged (-1: none) */
  mm: number;
  pinned: number;
  locked: number;
  /** uid charged (-1: none) */
  uid: number;
  user: number;
  /** io_uring releases with io_uring_unregister, the others with pin_release */
  ioUring: boolean;
}

export function accounting_drift(): HazardDetector {
  const ledger = new Map<number, Charge>();
  /** counter key → the difference last reported (absent: in agreement) */
  const lastDiff = new Map<string, number>();

  /**
   * Compare one counter with what the ledger says: `fromPins` charged by the
   * pins listed, `fromVmas` by VM_LOCKED mappings (locked_vm only).
   */
  const check = (
    ctx: DetectorContext,
    key: string,
    counter: keyof typeof RULES,
    who: string,
    actual: number,
    fromPins: number,
    pins: number[],
    fromVmas = 0,
  ) => {
    const expected = fromPins + fromVmas;
    const diff = actual - expected;
    if (diff === 0) {
      lastDiff.delete(key);
      return;
    }
    if (lastDiff.get(key) === diff) return;
    lastDiff.set(key, diff);
    const k = ctx.machine.k;
    const prov = pins.flatMap((id) => {
      const r = pinRecord(k, id);
      return r ? [provenanceOf(r, ctx)] : [];
    });
    const name = counter === "user_locked_vm" ? "user->locked_vm" : counter;
    const parts: string[] = [];
    if (fromVmas) parts.push(`${pages(fromVmas)} in VM_LOCKED mappings`);
    if (prov.length) parts.push(`${pages(fromPins)} charged by the pins held: ${describeAll(prov)}`);
    ctx.report({
      pfns: [],
      provenance: prov,
      rule: RULES[counter],
      message:
        `${who}: ${name} is ${pages(actual)} but ${pages(expected)} are accounted for` +
        (parts.length ? ` (${parts.join("; ")})` : " — no pin holds a charge"),
    });
  };

  return {
    hazard: "accounting_drift",
    watches: [
      "io_uring_register",
      "io_uring_unregister",
      "ib_umem_get",
      "vfio_map_dma",
      "xdp_umem_reg",
      "pin_release",
    ],
    onEvent(ev) {
      const pin = num(ev.args.pin);
      if (pin < 0) return;
      const pages = num(ev.args.pages, 0);
      switch (ev.name) {
        case "io_uring_register": {
          const acct = num(ev.args.acct, 0);
          const uid = num(ev.args.uid);
          ledger.set(pin, {
            mm: num(ev.args.mm),
            pinned: acct,
            locked: 0,
            uid,
            user: uid >= 0 ? acct : 0,
            ioUring: true,
          });
          return;
        }
        case "ib_umem_get":
          ledger.set(pin, {
            mm: num(ev.args.mm),
            pinned: pages,
            locked: 0,
            uid: -1,
            user: 0,
            ioUring: false,
          });
          return;
        case "vfio_map_dma":
          ledger.set(pin, {
            mm: num(ev.args.mm),
            pinned: 0,
            locked: pages,
            uid: -1,
            user: 0,
            ioUring: false,
          });
          return;
        case "xdp_umem_reg":
          ledger.set(pin, {
            mm: -1,
            pinned: 0,
            locked: 0,
            uid: num(ev.args.uid),
            user: ev.args.accounted === true ? pages : 0,
            ioUring: false,
          });
          return;
        case "io_uring_unregister":
          if (ledger.get(pin)?.ioUring) ledger.delete(pin);
          return;
        case "pin_release":
          if (ledger.get(pin)?.ioUring === false) ledger.delete(pin);
          return;
      }
    },
    onStepEnd(ctx) {
      const k = ctx.machine.k;
      const mms = new Map<number, { mm: MmStruct; name: string }>();
      for (const t of k.tasks.values())
        if (t.mm && !mms.has(t.mm.id)) mms.set(t.mm.id, { mm: t.mm, name: ctx.processName(t.pid) });
      for (const { mm, name } of mms.values()) {
        let pinned = 0;
        let locked = 0;
        const pinnedBy: number[] = [];
        const lockedBy: number[] = [];
        for (const [id, c] of ledger) {
          if (c.mm !== mm.id) continue;
          if (c.pinned) {
            pinned += c.pinned;
            pinnedBy.push(id);
          }
          if (c.locked) {
            locked += c.locked;
            lockedBy.push(id);
          }
        }
        let vmaLocked = 0;
        for (const v of mm.vmas) if (v.vm_flags & VM_LOCKED) vmaLocked += v.pages();
        check(ctx, `pinned_vm:${mm.id}`, "pinned_vm", `process ${name}`, mm.pinned_vm, pinned, pinnedBy);
        check(
          ctx,
          `locked_vm:${mm.id}`,
          "locked_vm",
          `process ${name}`,
          mm.locked_vm,
          locked,
          lockedBy,
          vmaLocked,
        );
      }
      for (const u of k.users.values()) {
        let user = 0;
        const by: number[] = [];
        for (const [id, c] of ledger)
          if (c.uid === u.uid && c.user) {
            user += c.user;
            by.push(id);
          }
        check(ctx, `user:${u.uid}`, "user_locked_vm", `uid ${u.uid}`, u.locked_vm, user, by);
      }
    },
  };
}

function pages(n: number): string {
  return `${n} page${n === 1 || n === -1 ? "" : "s"}`;
}
