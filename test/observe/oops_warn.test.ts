/**
 * oops and warn: a kernel BUG or WARN condition was reached. WARNs are
 * reachable from scenarios (GUP argument checks); a BUG is forced through
 * the kernel API, since a correct model has no scenario that reaches one.
 */
import { describe, expect, it } from "vitest";
import { pin_table } from "../../src/kernel/drivers/pin_table.js";
import { Machine } from "../../src/kernel/machine.js";
import { DETECTORS } from "../../src/observe/detectors.js";
import { HazardWatch } from "../../src/observe/watch.js";
import { ANON, found, runSrc } from "./helpers.js";

describe("warn", () => {
  it("fires once per WARN_ON_ONCE site: FOLL_LONGTERM without FOLL_PIN ([ARG-4])", () => {
    const r = runSrc(`${ANON}kernel: r = get_user_pages(A, buf, 1, FOLL_LONGTERM) = -EINVAL
kernel: r = get_user_pages(A, buf, 1, FOLL_LONGTERM) = -EINVAL
`);
    const f = found(r, "warn");
    expect(f.map((x) => [x.line, x.rule, x.message])).toEqual([
      [
        4,
        "mm/gup.c: is_valid_gup_args() [ARG-4]",
        "WARNING at mm/gup.c: is_valid_gup_args() [ARG-4]: FOLL_LONGTERM can only be specified when pinning",
      ],
    ]);
  });
  it("stays quiet for the valid call", () => {
    const r = runSrc(`${ANON}kernel: r = get_user_pages(A, buf, 1, 0) = 1\nkernel: put_page(r) = 0\n`);
    expect(r.hazards).toEqual([]);
  });
});

describe("oops", () => {
  function watched() {
    const m = new Machine();
    const w = new HazardWatch(m, DETECTORS, { processName: () => "A", lineOf: (s) => s + 10 });
    w.attach();
    w.beginStep({ step: 3, line: 13, actor: "kernel", call: "test" });
    return { m, w };
  }
  it("fires when BUG() halts the machine, naming the folio of the message and its pinners", () => {
    const { m, w } = watched();
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4096, 3, 0x22, -1, 0);
    m.memset(A, buf, 0x11, 4096);
    pin_table(m.k).currentStep = 3;
    const { pin } = m.gup("vfio", "pin_user_pages_remote", A, A, buf, 1, 1);
    const pfn = m.translate(A, buf);
    m.k.bug("mm/swap.c: folio_put()", `refcount of folio ${pfn} went negative (-1)`);
    const f = w.findings.filter((x) => x.hazard === "oops");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ step: 3, line: 13, pfns: [pfn], rule: "mm/swap.c: folio_put()" });
    expect(f[0].message).toBe(
      `kernel BUG at mm/swap.c: folio_put(): refcount of folio ${pfn} went negative (-1); the machine halted`,
    );
    expect(f[0].provenance.map((p) => [p.pin, p.owner, p.line])).toEqual([[pin!.id, "vfio", 13]]);
    expect(w.failures).toEqual([]);
  });
  it("stays quiet for a WARN, which is the warn hazard", () => {
    const { m, w } = watched();
    m.k.warn("mm/gup.c: faultin_page()", "FAULT_FLAG_WRITE with FAULT_FLAG_UNSHARE");
    expect(w.findings.map((x) => x.hazard)).toEqual(["warn"]);
  });
});
