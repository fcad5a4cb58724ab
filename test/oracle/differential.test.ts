/**
 * `pinlab oracle`: the comparison (on the model alone, with kernel answers
 * made up), the command's unavailable path, and — on the live kernel — that
 * a wrong model is caught and that a run which hangs, crashes or passes its
 * memory bound is reported as such and leaves nothing behind.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Machine } from "../../src/kernel/machine.js";
import { compareStep, WIDENINGS } from "../../src/oracle/compare.js";
import { judgeRuns, oracleRun } from "../../src/oracle/differential.js";
import type { KernelStep } from "../../src/oracle/kernel_side.js";
import { runModel } from "../../src/oracle/model_side.js";
import { oracleAvailability, unavailableMessage } from "../../src/oracle/native.js";
import { portability } from "../../src/oracle/portable.js";
import { runnables } from "../../src/oracle/scenario_walk.js";
import { compile } from "../../src/scenario/index.js";
import { cliMain } from "../../src/cli/cli.js";
import { fakeIo } from "../scenario/cli_io.js";

const avail = oracleAvailability();
const skip = !avail.ok;
const because = avail.ok ? "" : ` [skipped: ${unavailableMessage(avail)}]`;
const root = join(import.meta.dirname, "..", "..");

function checked(src: string) {
  const c = compile(src);
  expect(c.diagnostics).toEqual([]);
  return c;
}

const FORK = `process A
A: buf = mmap(NULL, 8K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
A: memset(buf, 0x11, 8K)
A: B = fork()
assert pfn(A, buf) == pfn(B, buf)
assert anon_exclusive(A, buf)
assert load(B, buf) == 0x11
`;

/** Compare statement n (1-based) of a model run with a made-up kernel answer. */
function judge(src: string, n: number, k: KernelStep) {
  const c = checked(src);
  const model = runModel(c);
  return compareStep(c, runnables(c)[n - 1], model.result.steps[n - 1], model.observations.get(n), k);
}

describe("the comparison of one step", () => {
  it("a call's return value must be the model's; an errno against success diverges", () => {
    expect(judge(FORK, 3, { raw: [], value: 0 }).verdict).toBe("agree");
    expect(judge(FORK, 3, { raw: [], value: -14 }).verdict).toBe("diverge");
  });
  it("addresses and pids are compared as success or errno only, with the reason", () => {
    const mmap = judge(FORK, 2, { raw: [], value: 0x7f1234560000 });
    expect(mmap.verdict).toBe("agree");
    expect(mmap.notes).toContain(WIDENINGS.address.why);
    expect(judge(FORK, 2, { raw: [], value: -12 }).verdict).toBe("diverge");
    expect(judge(FORK, 4, { raw: [], value: 31337 }).verdict).toBe("agree");
  });
  it("pfns are compared by the pattern of equalities, not by value", () => {
    const obs = (a: number, b: number): KernelStep => ({
      raw: [],
      observations: [
        { node: 0, text: "", value: { kind: "int", n: a } },
        { node: 0, text: "", value: { kind: "int", n: b } },
      ],
    });
    const c = checked(FORK);
    const model = runModel(c);
    const [pa, pb] = model.observations.get(5)!;
    const k = (a: number, b: number): KernelStep => {
      const s = obs(a, b);
      s.observations![0].node = pa.node;
      s.observations![1].node = pb.node;
      return s;
    };
    const cmp = (ks: KernelStep) => compareStep(c, runnables(c)[4], model.result.steps[4], model.observations.get(5), ks);
    expect(cmp(k(0x26eadf, 0x26eadf)).verdict).toBe("agree"); // other values, same pattern
    expect(cmp(k(0x26eadf, 0x26eada)).verdict).toBe("diverge");
  });
  it("an observation the kernel reads differently diverges, even when the condition still holds", () => {
    const c = checked(FORK);
    const model = runModel(c);
    const [o] = model.observations.get(7)!;
    const at = (n: number): KernelStep => ({ raw: [], observations: [{ node: o.node, text: o.text, value: { kind: "int", n } }] });
    expect(compareStep(c, runnables(c)[6], model.result.steps[6], model.observations.get(7), at(0x11)).verdict).toBe(
      "agree",
    );
    expect(compareStep(c, runnables(c)[6], model.result.steps[6], model.observations.get(7), at(0x22)).verdict).toBe(
      "diverge",
    );
  });
  it("a kernel that took an unusual outcome agrees with the model run that takes it too", () => {
    // fork of a 1G hugetlb mapping may skip the child's entries (NONDET.hugetlbPudTableLooksShared)
    const src = `machine hugetlb.1G=1
process A
A: buf = mmap(NULL, 1G, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_1GB, -1, 0)
A: memset(buf, 0x11, 4K)
A: B = fork()
assert mapped(B, buf)
`;
    const c = checked(src);
    const usual = runModel(c);
    expect(usual.nondetSeen).toEqual(["hugetlb_pud_table_looks_shared#0"]);
    const unusual = runModel(c, { unusual: new Set(usual.nondetSeen) });
    expect(unusual.result.steps[4].assert?.met).toBe(false); // the child maps nothing
    // a kernel that answers as the unusual run did
    const kernel: KernelStep[] = unusual.result.steps.map((st) => ({
      raw: [],
      value: st.result?.kind === "int" ? st.result.n : st.kind === "call" ? undefined : 0,
      observations: unusual.observations.get(st.step)?.map((o) => ({ node: o.node, text: o.text, value: o.compared })),
    }));
    kernel[0].value = 1; // process A: a pid
    expect(judge(src, 5, kernel[4]).verdict).toBe("diverge");
    const j = judgeRuns(c, usual, kernel);
    expect(j.divergence).toBeUndefined();
    expect(j.notes.join("\n")).toMatch(/hugetlb_pud_table_looks_shared#0: fork skipped the child's 1G hugetlb entries/);
    // a kernel that no outcome of the model explains still diverges
    kernel[4].observations![0].value = { kind: "int", n: 3 };
    expect(judgeRuns(c, usual, kernel).divergence?.text).toBe("assert mapped(B, buf)");
  });
  it("the exclusive bit may read false on a hugetlb page only (hugetlb_pmd_shared())", () => {
    const huge = `machine hugetlb.2M=1
process A
A: buf = mmap(NULL, 2M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB, -1, 0)
A: memset(buf, 0x11, 4K)
assert anon_exclusive(A, buf)
`;
    const small = huge.replace("machine hugetlb.2M=1\n", "").replace("|MAP_HUGETLB", "");
    for (const [src, verdict] of [
      [huge, "agree"],
      [small, "diverge"],
    ] as const) {
      const c = checked(src);
      const model = runModel(c);
      const [o] = model.observations.get(4)!;
      const k: KernelStep = { raw: [], observations: [{ node: o.node, text: o.text, value: { kind: "bool", b: false } }] };
      expect(compareStep(c, runnables(c)[3], model.result.steps[3], model.observations.get(4), k).verdict, src).toBe(
        verdict,
      );
    }
  });
  it("hazards are not compared: the kernel has no such notion", () => {
    const r = judge(FORK + "assert no hazards\n", 8, { raw: [] });
    expect(r.verdict).toBe("not-compared");
  });
});

describe("portability", () => {
  it("kernel-side actors, boot-time zones and process settings make a scenario not portable, with the line", () => {
    const c = checked(`machine movable=1G
process A uid=1000
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
vfio: pin = pin_user_pages_remote(A, buf, 1, FOLL_WRITE|FOLL_LONGTERM)
`);
    const p = portability(c);
    expect(p.portable).toBe(false);
    expect(p.reasons.map((r) => r.why).join("\n")).toMatch(/ZONE_MOVABLE[\s\S]*process settings[\s\S]*vfio/);
    expect(p.reasons.find((r) => /vfio/.test(r.why))?.line).toBe(4);
  });
  it("every portable example is judged portable", () => {
    const c = checked(readFileSync(join(root, "examples", "fork_io_uring.pin"), "utf8"));
    expect(portability(c).portable).toBe(true);
  });
});

describe("pinlab oracle where it cannot run", () => {
  it('says "oracle unavailable: <reason>" and exits 3, without a stack trace', async () => {
    const f = fakeIo({ "f.pin": FORK });
    const saved = process.env.PINLAB_ORACLE_RUNNER;
    process.env.PINLAB_ORACLE_RUNNER = "/nonexistent/pinlab-runner";
    try {
      expect(await cliMain(["oracle", "f.pin"], f.io)).toBe(3);
    } finally {
      if (saved === undefined) delete process.env.PINLAB_ORACLE_RUNNER;
      else process.env.PINLAB_ORACLE_RUNNER = saved;
    }
    expect(f.err()).toMatch(/^pinlab: oracle unavailable: .+\n$/);
    expect(f.out()).toBe("");
  });
  it("bad input is reported before anything runs", async () => {
    const f = fakeIo({});
    expect(await cliMain(["oracle"], f.io)).toBe(2);
    expect(f.err()).toMatch(/oracle needs a DIR or FILEs/);
  });
  // a real process of another uid: only root can start one (the command must have been built)
  it.skipIf(skip || process.getuid?.() !== 0)("as a user other than root: not root", () => {
    const main = join(root, "dist", "src", "cli", "main.js");
    if (!existsSync(main)) return;
    const r = spawnSync(process.execPath, [main, "oracle", join(root, "examples", "fork_io_uring.pin")], {
      uid: 65534,
      gid: 65534,
      encoding: "utf8",
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/oracle unavailable: not root \(uid 65534\)/);
  });
});

describe(`pinlab oracle on the live kernel${because}`, () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.skipIf(skip)(
    "pinlab oracle: agreement per scenario, not portable is not a failure, --json gives every step",
    async () => {
      const files = {
        "ex/fork.pin": readFileSync(join(root, "examples", "fork_io_uring.pin"), "utf8"),
        "ex/vfio.pin": readFileSync(join(root, "examples", "cma-alloc_vfio-remote-pin_longterm_ok.pin"), "utf8"),
      };
      const text = fakeIo(files);
      expect(await cliMain(["oracle", "ex"], text.io)).toBe(0);
      expect(text.out()).toMatch(/^agree +ex\/fork\.pin/m);
      expect(text.out()).toMatch(/^not portable +ex\/vfio\.pin\n +line \d+: .*cma=/m);
      expect(text.out()).toMatch(/2 scenarios: 1 agree, 0 diverge, 0 faults, 1 not portable/);
      const json = fakeIo(files);
      expect(await cliMain(["oracle", "--json", "ex/fork.pin"], json.io)).toBe(0);
      const doc = JSON.parse(json.out()) as { status: string; steps: { verdict: string }[]; residue: string[] };
      expect(doc.status).toBe("agree");
      expect(doc.steps.filter((s) => s.verdict === "agree").length).toBeGreaterThan(10);
      expect(doc.residue).toEqual([]);
    },
    60_000,
  );

  it.skipIf(skip)(
    "a model that reads the wrong content is caught at the first assert that looks",
    async () => {
      const c = checked(readFileSync(join(root, "examples", "fork_io_uring.pin"), "utf8"));
      expect((await oracleRun(c)).status).toBe("agree");
      const real = Machine.prototype.peek;
      vi.spyOn(Machine.prototype, "peek").mockImplementation(function (this: Machine, pid: number, addr: number) {
        const v = real.call(this, pid, addr);
        return v === 0x11 ? 0x12 : v; // an off-by-one model
      });
      const r = await oracleRun(c);
      expect(r.status).toBe("diverge");
      expect(r.divergence?.text).toBe("assert load(B, buf) == 0x11");
      expect(r.divergence?.kernel).toMatch(/load\(B, buf\) = 17/);
      expect(r.residue).toEqual([]);
    },
    60_000,
  );

  it.skipIf(skip)(
    "the runner killed mid-scenario: a crash is reported, and no pin, file, mount, hugetlb page or sysctl change remains",
    async () => {
      const hugePath = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
      const hugeBefore = readFileSync(hugePath, "utf8").trim();
      const vm = () => {
        const t = readFileSync("/proc/vmstat", "utf8");
        const get = (n: string) => Number(new RegExp(`^${n} (\\d+)$`, "m").exec(t)?.[1] ?? 0);
        return get("nr_foll_pin_acquired") - get("nr_foll_pin_released");
      };
      const pinsBefore = vm();
      const thpPath = "/sys/kernel/mm/transparent_hugepage/enabled";
      const overcommitPath = "/proc/sys/vm/overcommit_memory";
      const thpBefore = readFileSync(thpPath, "utf8");
      const overcommitBefore = readFileSync(overcommitPath, "utf8");
      const c = checked(`machine hugetlb.2M=1 thp=${thpBefore.includes("[always]") ? "never" : "always"} overcommit=1
mount tmpfs /t
process A
A: fd = open("/t/f", O_RDWR|O_CREAT)
A: ftruncate(fd, 8K)
A: buf = mmap(NULL, 8K, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)
A: memset(buf, 0x11, 8K)
A: fixed = io_uring_register_buffers(buf, 8K)
A: huge = mmap(NULL, 2M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB, -1, 0)
A: memset(huge, 0x22, 2M)
A: B = fork()
B: store(buf, 0x33)
assert load(A, buf) == 0x33
`);
      let mounts = "";
      const r = await oracleRun(c, {
        afterKernelStep: (step, runner) => {
          if (step === 10) {
            mounts = readFileSync("/proc/self/mounts", "utf8");
            runner.killRunner();
          }
        },
      });
      expect(r.status).toBe("fault");
      expect(r.fault?.kind).toBe("crash");
      expect(r.fault?.line).toBe(12);
      expect(r.residue).toEqual([]);
      expect(mounts).toContain(r.rundir!);
      expect(existsSync(r.rundir!)).toBe(false);
      expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(r.rundir!);
      expect(readFileSync(hugePath, "utf8").trim()).toBe(hugeBefore);
      expect(readFileSync(thpPath, "utf8")).toBe(thpBefore);
      expect(readFileSync(overcommitPath, "utf8")).toBe(overcommitBefore);
      // io_uring unpins from a workqueue after the ring's last user is gone
      for (let i = 0; i < 200 && vm() !== pinsBefore; i++) await new Promise((res) => setTimeout(res, 10));
      expect(vm()).toBe(pinsBefore);
    },
    60_000,
  );

  it.skipIf(skip)(
    "a step past its deadline is a hang; a mapping past the memory bound is reported as such",
    async () => {
      const hang = checked(`machine hugetlb.1G=1
process A
A: buf = mmap(NULL, 1G, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_1GB, -1, 0)
A: memset(buf, 0x11, 1G)
`);
      const h = await oracleRun(hang, { stepTimeoutMs: 1 });
      if (h.status !== "unavailable") {
        expect(h.status).toBe("fault");
        expect(h.fault?.kind).toBe("hang");
        expect(h.residue).toEqual([]);
      }
      const big = checked(`process A
A: buf = mmap(NULL, 1G, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
`);
      const m = await oracleRun(big, { runner: { asLimitMb: 256 } });
      expect(m.status).toBe("fault");
      expect(m.fault?.kind).toBe("memory");
      expect(m.fault?.detail).toMatch(/memory bound/);
      expect(m.residue).toEqual([]);
    },
    60_000,
  );
});
