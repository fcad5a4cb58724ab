/**
 * The native runner on this machine's kernel: small real step lists whose
 * Linux 6.18 outcomes are known (gup-semantics.md §7, gup-api.md §16), and
 * the cleanup contract (docs/oracle-protocol.md) under SIGKILL.
 * Skipped, with the reason in the test name, where the oracle cannot run.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { procStat } from "../../src/oracle/journal.js";
import {
  NativeRunner,
  OracleError,
  ORACLE_UNAVAILABLE,
  oracleAvailability,
  unavailableMessage,
} from "../../src/oracle/native.js";
import { expandRuns, type OracleStep } from "../../src/oracle/protocol.js";

const avail = oracleAvailability();
const skip = !avail.ok;
const because = avail.ok ? "" : ` [skipped: ${unavailableMessage(avail)}]`;

const RW = "PROT_READ|PROT_WRITE";
const PRIV_ANON = "MAP_PRIVATE|MAP_ANONYMOUS";
const K4 = 4096;

/** A runner for one test; after the body, close it and require that it cleaned up after itself. */
async function withRunner(body: (r: NativeRunner) => Promise<void>): Promise<void> {
  const r = await NativeRunner.start();
  try {
    await body(r);
  } finally {
    const exit = await r.close();
    expect(exit.recovery.wasClean, "the runner undid its own changes").toBe(true);
    expect(existsSync(r.rundir)).toBe(false);
    expect(existsSync(r.journalPath)).toBe(false);
  }
}

function mmapAnon(proc: string, bind: string, len: number, prot = RW): OracleStep {
  return { proc, op: "mmap", args: { len, prot, flags: PRIV_ANON }, bind };
}

describe("oracle availability", () => {
  it("says why it is unavailable, or names the binary", () => {
    if (avail.ok) expect(avail.binary).toMatch(/pinlab-runner$/);
    else expect(unavailableMessage(avail)).toMatch(new RegExp(`^${ORACLE_UNAVAILABLE}: .+`));
  });
});

describe(`native runner on the live kernel${because}`, () => {
  it.skipIf(skip)("anon memory: stores and loads, one word per page", async () => {
    await withRunner(async (r) => {
      expect((await r.must({ proc: "A", op: "spawn" })).ret).toBeGreaterThan(0);
      await r.must(mmapAnon("A", "buf", 2 * K4));
      expect((await r.must({ proc: "A", op: "load", args: { addr: { $ref: "buf" } } })).ret).toBe(0);
      expect(
        (await r.must({ proc: "A", op: "memset", args: { addr: { $ref: "buf" }, value: 0xaa, len: 2 * K4 } }))
          .ret,
      ).toBe(0);
      await r.must({ proc: "A", op: "store", args: { addr: { $ref: "buf", add: K4 }, value: 0xdeadbeef } });
      expect((await r.must({ proc: "A", op: "load", args: { addr: { $ref: "buf" } } })).ret).toBe(0xaa);
      expect(
        (await r.must({ proc: "A", op: "load", args: { addr: { $ref: "buf", add: K4 + 8 } } })).ret,
      ).toBe(0xdeadbeef);
      expect(expandRuns(await r.peek("A", { $ref: "buf" }, 2 * K4))).toEqual([0xaa, 0xdeadbeef]);
      // a user access that would raise SIGSEGV is -EFAULT, and the process lives on
      const bad = await r.must({ proc: "A", op: "store", args: { addr: 0x1000, value: 1 } });
      expect(bad.errname).toBe("EFAULT");
      expect((await r.must({ proc: "A", op: "getpid" })).ret).toBeGreaterThan(0);
    });
  });

  it.skipIf(skip)("fork: the child sees the content at fork time, writes are private (COW)", async () => {
    await withRunner(async (r) => {
      await r.must({ proc: "A", op: "spawn" });
      await r.must(mmapAnon("A", "buf", K4));
      await r.must({ proc: "A", op: "memset", args: { addr: { $ref: "buf" }, value: 0x11, len: K4 } });
      const f = await r.must({ proc: "A", op: "fork", args: { child: "B" } });
      expect(f.ret).toBeGreaterThan(0);
      await r.must({ proc: "A", op: "memset", args: { addr: { $ref: "buf" }, value: 0x22, len: K4 } });
      expect((await r.must({ proc: "B", op: "load", args: { addr: { $ref: "buf" } } })).ret).toBe(0x11);
      await r.must({ proc: "B", op: "store", args: { addr: { $ref: "buf" }, value: 0x33 } });
      expect((await r.must({ proc: "A", op: "load", args: { addr: { $ref: "buf" } } })).ret).toBe(0x22);
      expect((await r.must({ proc: "B", op: "exit", args: { status: 0 } })).ret).toBe(0);
      const gone = await r.step({ proc: "B", op: "getpid" });
      expect(gone.error).toMatch(/no running process B/);
    });
  });

  it.skipIf(skip)(
    "io_uring: registering private anon pins it (VmPin); memfd_secret is refused with EFAULT",
    async () => {
      await withRunner(async (r) => {
        await r.must({ proc: "A", op: "spawn" });
        await r.must(mmapAnon("A", "buf", 2 * K4));
        const reg = await r.must({
          proc: "A",
          op: "io_uring_register_buffers",
          args: { addr: { $ref: "buf" }, len: 2 * K4 },
        });
        expect(reg.ret).toBe(0);
        expect((await r.status("A")).VmPin).toBe(8);
        // the device sees what the process wrote through the pinned page (WRITE_FIXED)
        await r.must({ proc: "A", op: "memset", args: { addr: { $ref: "buf" }, value: 0x5a, len: 2 * K4 } });
        const dma = await r.must({
          proc: "A",
          op: "uring_write_fixed",
          args: { addr: { $ref: "buf" }, len: 2 * K4 },
        });
        expect(dma.ret).toBe(2 * K4);
        expect(dma.obs?.runs).toEqual([[0x5a, 2]]);
        expect((await r.must({ proc: "A", op: "io_uring_unregister_buffers" })).ret).toBe(0);
        expect((await r.status("A")).VmPin).toBe(0);

        const fd = await r.must({ proc: "A", op: "memfd_secret", args: { flags: 0 }, bind: "sfd" });
        expect(fd.ret).toBeGreaterThanOrEqual(0);
        await r.must({ proc: "A", op: "ftruncate", args: { fd: { $ref: "sfd" }, len: K4 } });
        await r.must({
          proc: "A",
          op: "mmap",
          args: { len: K4, prot: RW, flags: "MAP_SHARED", fd: { $ref: "sfd" }, off: 0 },
          bind: "secret",
        });
        await r.must({ proc: "A", op: "store", args: { addr: { $ref: "secret" }, value: 7 } });
        const sreg = await r.must({
          proc: "A",
          op: "io_uring_register_buffers",
          args: { addr: { $ref: "secret" }, len: K4 },
        });
        expect(sreg.ret).toBe(-14);
        expect(sreg.errname).toBe("EFAULT");
        expect((await r.status("A")).VmPin).toBe(0);
      });
    },
  );

  it.skipIf(skip)("process_vm_readv stops at a hole in the remote range: a partial count", async () => {
    await withRunner(async (r) => {
      await r.must({ proc: "A", op: "spawn" });
      await r.must({ proc: "B", op: "spawn" });
      await r.must(mmapAnon("B", "src", 3 * K4));
      await r.must({ proc: "B", op: "memset", args: { addr: { $ref: "src" }, value: 0x77, len: 3 * K4 } });
      await r.must({ proc: "B", op: "munmap", args: { addr: { $ref: "src", add: K4 }, len: K4 } });
      await r.must(mmapAnon("A", "dst", 3 * K4));
      const rv = await r.must({
        proc: "A",
        op: "process_vm_readv",
        args: {
          target: "B",
          local: { addr: { $ref: "dst" }, len: 3 * K4 },
          remote: { addr: { $ref: "src" }, len: 3 * K4 },
          flags: 0,
        },
      });
      expect(rv.ret).toBe(K4);
      expect(expandRuns(await r.peek("A", { $ref: "dst" }, 3 * K4))).toEqual([0x77, 0, 0]);
    });
  });

  it.skipIf(skip)(
    "/proc/self/mem writes into PROT_READ private memory (FOLL_FORCE); a plain store faults",
    async () => {
      await withRunner(async (r) => {
        await r.must({ proc: "A", op: "spawn" });
        await r.must(mmapAnon("A", "ro", K4, "PROT_READ"));
        const st = await r.must({ proc: "A", op: "store", args: { addr: { $ref: "ro" }, value: 1 } });
        expect(st.errname).toBe("EFAULT");
        const w = await r.must({
          proc: "A",
          op: "proc_mem_write",
          args: { addr: { $ref: "ro" }, len: K4, value: 0x99 },
        });
        expect(w.ret).toBe(K4);
        expect((await r.must({ proc: "A", op: "load", args: { addr: { $ref: "ro" } } })).ret).toBe(0x99);
        const [page] = await r.pagemap("A", { $ref: "ro" });
        expect(page.present && page.anon && page.exclusive).toBe(true);
      });
    },
  );

  it.skipIf(skip)("pagemap: the exclusive bit clears at fork and comes back with the COW copy", async () => {
    await withRunner(async (r) => {
      await r.must({ proc: "A", op: "spawn" });
      await r.must(mmapAnon("A", "buf", K4));
      await r.must({ proc: "A", op: "store", args: { addr: { $ref: "buf" }, value: 1 } });
      const [before] = await r.pagemap("A", { $ref: "buf" });
      expect(before.exclusive).toBe(true);
      await r.must({ proc: "A", op: "fork", args: { child: "B" } });
      const [a1] = await r.pagemap("A", { $ref: "buf" });
      const [b1] = await r.pagemap("B", { $ref: "buf" });
      expect([a1.exclusive, b1.exclusive]).toEqual([false, false]);
      expect(a1.pfn).toBe(before.pfn);
      expect(b1.pfn).toBe(before.pfn);
      expect(a1.mapcount).toBe(2);
      await r.must({ proc: "A", op: "store", args: { addr: { $ref: "buf" }, value: 2 } });
      const [a2] = await r.pagemap("A", { $ref: "buf" });
      const [b2] = await r.pagemap("B", { $ref: "buf" });
      expect(a2.exclusive).toBe(true);
      expect(a2.pfn).not.toBe(before.pfn); // A wrote: A got the copy
      expect(b2.pfn).toBe(before.pfn); // B keeps the original, mapped once now
      expect(b2.exclusive).toBe(true);
    });
  });

  it.skipIf(skip)("step faults: a hang is interrupted at its deadline, a crash is reported", async () => {
    await withRunner(async (r) => {
      await r.must({ proc: "A", op: "spawn" });
      await r.must({ proc: "A", op: "pipe", bind: "p" });
      const t0 = Date.now();
      const hang = await r.step({
        proc: "A",
        op: "read",
        args: { fd: { $ref: "p", field: "rfd" }, len: 16 },
        timeout_ms: 200,
      });
      expect(hang.error).toBe("timeout");
      expect(Date.now() - t0).toBeLessThan(5000);
      expect((await r.must({ proc: "A", op: "getpid" })).ret).toBeGreaterThan(0);
      await r.must({ proc: "A", op: "kill", args: { signal: 11 } });
      const dead = await r.step({ proc: "A", op: "getpid" });
      expect(dead.error).toBe("crashed");
      expect(dead.detail).toMatch(/SEGV/);
    });
  });

  it.skipIf(skip)("SIGKILL of the runner mid-scenario leaves no residue", async () => {
    const hugePath = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
    const hugeBefore = readFileSync(hugePath, "utf8").trim();
    const r = await NativeRunner.start();
    const pids: number[] = [];
    pids.push((await r.must({ proc: "A", op: "spawn" })).ret ?? -1);
    const pool = await r.must({ op: "nr_hugepages", args: { size: "2M", count: Number(hugeBefore) + 1 } });
    expect(pool.ret).toBe(0);
    const mnt = await r.must({ op: "mount", args: { kind: "tmpfs" } });
    const mountPath = String(mnt.obs?.path);
    await r.must(mmapAnon("A", "buf", 2 * K4));
    await r.must({ proc: "A", op: "memset", args: { addr: { $ref: "buf" }, value: 1, len: 2 * K4 } });
    expect(
      (
        await r.must({
          proc: "A",
          op: "io_uring_register_buffers",
          args: { addr: { $ref: "buf" }, len: 2 * K4 },
        })
      ).ret,
    ).toBe(0);
    await r.must({ proc: "A", op: "mlock", args: { addr: { $ref: "buf" }, len: 2 * K4 } });
    await r.must({
      proc: "A",
      op: "mmap",
      args: { len: "2M", prot: RW, flags: "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB" },
      bind: "huge",
    });
    await r.must({ proc: "A", op: "memset", args: { addr: { $ref: "huge" }, value: 2, len: "2M" } });
    pids.push((await r.must({ proc: "A", op: "fork", args: { child: "B" } })).ret ?? -1);
    expect((await r.status("A")).VmPin).toBe(8);

    // mid-scenario: B is inside a step when the runner dies
    const pending = r.step({ proc: "B", op: "sleep", args: { ms: 20_000 }, timeout_ms: 30_000 });
    await new Promise((res) => setTimeout(res, 100));
    r.killRunner();
    await expect(pending).rejects.toBeInstanceOf(OracleError);
    const exit = await r.exited;
    expect(exit.signal).toBe("SIGKILL");
    expect(exit.recovery.wasClean).toBe(false);
    expect(exit.recovery.failures).toEqual([]);
    expect(exit.recovery.survivors).toEqual([]);

    for (const pid of pids) {
      const st = procStat(pid);
      expect(st === null || st.state === "Z", `process ${pid} is gone`).toBe(true);
      // a zombie has no mm, so nothing of it can still be pinned or locked
      const status = st ? readFileSync(`/proc/${pid}/status`, "utf8") : "";
      expect(status).not.toMatch(/^VmPin:\s*[1-9]/m);
      expect(status).not.toMatch(/^VmLck:\s*[1-9]/m);
    }
    expect(readFileSync(hugePath, "utf8").trim()).toBe(hugeBefore);
    expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(mountPath);
    expect(existsSync(r.rundir)).toBe(false);
    expect(existsSync(r.journalPath)).toBe(false);
  });

  it.skipIf(skip)("a runner that stops answering is killed by the client and cleaned up after", async () => {
    const r = await NativeRunner.start({ marginMs: 0 });
    await r.must({ proc: "A", op: "spawn" });
    const pid = (await r.must({ proc: "A", op: "getpid" })).ret ?? -1;
    // the runner itself sleeps past the client's bound (timeout_ms + 2 s backstop + margin)
    const hung = r.step({ op: "sleep_runner", args: { ms: 60_000 }, timeout_ms: 100 });
    await expect(hung).rejects.toThrow(/did not answer/);
    const exit = await r.exited;
    expect(exit.signal).toBe("SIGKILL");
    expect(exit.recovery.failures).toEqual([]);
    const st = procStat(pid);
    expect(st === null || st.state === "Z").toBe(true);
    expect(existsSync(r.rundir)).toBe(false);
  });
});
