/**
 * unmovable_pin: a pin holds a page where the kernel promised movability.
 * Long-term pins: whenever one sits in ZONE_MOVABLE or CMA. Short-term
 * pins: only when one held across steps actually kept such a page from moving.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { found, ranClean, runSrc } from "./helpers.js";

const MOVABLE = (kconfig: string) => `machine memory=4G movable=2G${kconfig}
process A
A: buf = mmap(NULL, 64K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: memset(buf, 0x5a, 64K) = 0
assert zone(A, buf) == MOVABLE
`;

describe("unmovable_pin", () => {
  it("fires for a long-term pin left in ZONE_MOVABLE (CONFIG_MIGRATION off: nothing can move it)", () => {
    const r = runSrc(
      MOVABLE(" kconfig.MIGRATION=off") +
        "A: fixed = io_uring_register_buffers(buf, 64K) = 0\nassert zone(A, buf) == MOVABLE\n",
    );
    ranClean(r);
    const f = found(r, "unmovable_pin");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ step: 5, line: 6 });
    expect(f[0].pfns).toHaveLength(16);
    expect(f[0].message).toBe(
      "pfn 0x80000 in ZONE_MOVABLE is long-term pinned by io_uring (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM) " +
        "of process A at line 6 (with 15 more folios): it can no longer be migrated, so that memory cannot be offlined or allocated contiguously",
    );
    expect(f[0].rule).toMatch(/^mm\/gup\.c: check_and_migrate_movable_pages\(\)/);
  });
  it("stays quiet for the same pin with CONFIG_MIGRATION on: the pages move first ([LT-2])", () => {
    const r = runSrc(
      MOVABLE("") + "A: fixed = io_uring_register_buffers(buf, 64K) = 0\nassert zone(A, buf) != MOVABLE\n",
    );
    ranClean(r);
    expect(found(r, "unmovable_pin")).toEqual([]);
  });
  it("stays quiet for DESIGN.md's long-term pin in ZONE_MOVABLE", () => {
    const src = readFileSync(
      new URL("../scenario/fixtures/design/04_longterm_pin_zone_movable.pin", import.meta.url),
      "utf8",
    );
    expect(runSrc(src).hazards).toEqual([]);
  });
  it("fires for a short-term pin held across steps that keeps compaction from moving the page", () => {
    const r = runSrc(
      MOVABLE("") + "v4l2: p = pin_user_pages_unlocked(A, buf, 16, FOLL_WRITE) = 16\nkernel: compact()\n",
    );
    ranClean(r);
    const f = found(r, "unmovable_pin");
    expect(f.map((x) => [x.line, x.pfns])).toEqual([[7, [0x80000]]]);
    expect(f[0].message).toBe(
      "pfn 0x80000 in ZONE_MOVABLE could not be moved (compaction skipped it): pinned by v4l2 " +
        "(pin_user_pages_unlocked FOLL_WRITE) of process A at line 6 without FOLL_LONGTERM and still held",
    );
  });
  it("stays quiet for a short-term pin that nothing needed to move, or that was released first", () => {
    const held = runSrc(
      MOVABLE("") +
        "v4l2: p = pin_user_pages_unlocked(A, buf, 16, FOLL_WRITE) = 16\nv4l2: unpin_user_pages(p) = 0\n",
    );
    expect(held.hazards).toEqual([]);
    const released = runSrc(
      MOVABLE("") +
        "v4l2: p = pin_user_pages_unlocked(A, buf, 16, FOLL_WRITE) = 16\nv4l2: unpin_user_pages(p) = 0\nkernel: compact()\n",
    );
    expect(released.hazards).toEqual([]);
  });
});
