/** Compaction moves movable pages up and leaves pinned anon pages in place (mm/compaction.c, P6). */
import { describe, expect, it } from "vitest";
import { FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";

describe("compact_zone()", () => {
  it("migrates movable anon pages toward the top of the zone, content intact, and skips a pinned one", () => {
    const m = new Machine({ memory: 128 * 1024 * 1024 });
    const A = m.spawn("A");
    const buf = m.mmap(A, 0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < 4; i++) m.store(A, buf + i * 4096, 10 + i);
    const before = [0, 1, 2, 3].map((i) => m.translate(A, buf + i * 4096));
    const { pin } = m.gup("kernel", "pin_user_pages_fast", A, A, buf + 2 * 4096, 1, FOLL_WRITE);
    const r = m.compact();
    expect(r.skippedPinned).toContain(before[2]);
    expect(r.migrated).toBeGreaterThanOrEqual(3);
    const after = [0, 1, 2, 3].map((i) => m.translate(A, buf + i * 4096));
    expect(after[2]).toBe(before[2]);
    for (const i of [0, 1, 3]) expect(after[i]).toBeGreaterThan(before[i]);
    for (let i = 0; i < 4; i++) expect(m.load(A, buf + i * 4096)).toBe(10 + i);
    m.unpin(pin!);
  });
});
