/** Pin provenance as findings and output name it. */
import { describe, expect, it } from "vitest";
import type { PinProvenance } from "../../src/observe/hazard.js";
import { describePin, movableArea, pfnText } from "../../src/observe/provenance.js";
import { Machine } from "../../src/kernel/machine.js";

const P: PinProvenance = {
  pin: 3,
  kind: "pin",
  longterm: true,
  owner: "io_uring",
  api: "pin_user_pages_fast",
  flags: "FOLL_WRITE|FOLL_LONGTERM",
  process: "A",
  start: 0x7efffffff000,
  nrPages: 1,
  step: 5,
  line: 12,
};

describe("describePin", () => {
  it("names who, how, whose memory and where: the line when the scenario has text", () => {
    expect(describePin(P)).toBe(
      "long-term pinned by io_uring (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM) of process A at line 12",
    );
  });
  it("says pinned for short-term pins, referenced for FOLL_GET, the step without a line, no flags for 0", () => {
    expect(
      describePin({
        ...P,
        longterm: false,
        flags: "FOLL_WRITE",
        owner: "v4l2",
        api: "pin_user_pages_unlocked",
      }),
    ).toBe("pinned by v4l2 (pin_user_pages_unlocked FOLL_WRITE) of process A at line 12");
    const { line: _line, ...noLine } = P;
    expect(
      describePin({
        ...noLine,
        kind: "ref",
        longterm: false,
        owner: "vmsplice",
        api: "get_user_pages_fast",
        flags: "0",
        process: "B",
      }),
    ).toBe("referenced by vmsplice (get_user_pages_fast) of process B at step 5");
  });
  it("formats pfns in hex and knows movable memory", () => {
    expect(pfnText(0x12345)).toBe("pfn 0x12345");
    const m = new Machine({ memory: 4 * 1024 ** 3, movable: 2 * 1024 ** 3, cma: 64 * 1024 ** 2 });
    expect(movableArea(m.k, 0x80000)).toBe("ZONE_MOVABLE");
    expect(movableArea(m.k, 0x7ffff)).toBe("the CMA area");
    expect(movableArea(m.k, 0x1000)).toBe(null);
    expect(movableArea(m.k, -1)).toBe(null);
  });
});
