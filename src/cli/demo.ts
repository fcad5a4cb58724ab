/**
 * `pinlab demo`: a guided run on a fresh machine — map, fault, fork, COW —
 * printing each step, its result and the kernel events behind it.
 */
import { formatRet } from "../kernel/include/errno.js";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../kernel/include/mman.js";
import { Machine } from "../kernel/machine.js";
import type { TraceEvent } from "../kernel/tracepoint.js";

const hex = (n: number) => (n < 0 ? formatRet(n) : "0x" + n.toString(16));

export function runDemo(): string {
  const out: string[] = [];
  const m = new Machine({ memory: 4 * 1024 ** 3, thp: "madvise" });
  let events: TraceEvent[] = [];
  m.k.trace.subscribe((e) => events.push(e));
  const say = (s: string) => out.push(s);
  const step = (what: string, ret: number, fmt: (n: number) => string = formatRet) => {
    say(`  ${what} = ${fmt(ret)}`);
    for (const e of events) {
      const args = Object.entries(e.args)
        .map(([k, v]) => `${k}=${typeof v === "number" && v > 9 ? hex(v) : String(v)}`)
        .join(" ");
      say(`      · ${e.name} ${args}  [${e.where}]`);
    }
    events = [];
  };
  const page = (pid: number, addr: number) => {
    const pfn = m.translate(pid, addr);
    if (pfn < 0) return "not mapped";
    const p = m.page(pfn);
    return `pfn ${hex(pfn)} ${p.zeroPage ? "(zero page) " : ""}zone=${p.zone} refcount=${p.refcount} mapcount=${p.mapcount} anon-exclusive=${p.anonExclusive} content=${hex(p.content)}`;
  };

  say("pinlab demo — Linux 6.18 memory management, modelled");
  say(`machine: ${m.config.memory / 1024 ** 3} GiB, thp=${m.config.thp}`);
  const A = m.spawn("A");
  say("\nprocess A maps one anonymous page and reads it:");
  const buf = m.mmap(A, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  step(`A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`, buf, hex);
  step("A: load(buf)", m.load(A, buf), hex);
  say(`    buf → ${page(A, buf)}`);
  say("\nA writes: the zero page is replaced by a private page:");
  step("A: store(buf, 0x11)", m.store(A, buf, 0x11));
  say(`    buf → ${page(A, buf)}`);
  say("\nA forks B: both map the page read-only, it is no longer exclusive:");
  const B = m.fork(A, "B");
  step("A: B = fork()", B);
  say(`    A buf → ${page(A, buf)}`);
  say(`    B buf → ${page(B, buf)}`);
  say("\nA writes again: copy-on-write gives A a new page, B keeps the old one:");
  step("A: store(buf, 0x22)", m.store(A, buf, 0x22));
  say(`    A buf → ${page(A, buf)}`);
  say(`    B buf → ${page(B, buf)}`);
  say("\nB writes: its page is now referenced only by B, so it is reused, not copied:");
  step("B: store(buf, 0x33)", m.store(B, buf, 0x33));
  say(`    B buf → ${page(B, buf)}`);
  say("\nA maps 2 MiB with MADV_HUGEPAGE and touches it: one THP:");
  const big = m.mmap(A, 0, 2 * 1024 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  step("A: big = mmap(NULL, 2M, ...)", big, hex);
  step("A: madvise(big, 2M, MADV_HUGEPAGE)", m.madvise(A, big, 2 * 1024 * 1024, MADV.MADV_HUGEPAGE));
  step("A: store(big + 4K, 0x5a)", m.store(A, big + 4096, 0x5a));
  const thp = m.page(m.translate(A, big));
  say(
    `    big → folio ${hex(thp.folio)} of order ${thp.order} (${(1 << thp.order) * 4} KiB) zone=${thp.zone}`,
  );
  say("\nB exits; its pages are freed:");
  step("B: exit(0)", m.exit(B));
  const vm = m.k.vmstat;
  say(`\nvmstat: pgfault=${vm.pgfault} cow_copy=${vm.cow_copy} thp_fault_alloc=${vm.thp_fault_alloc}`);
  say(`model metadata: ${m.metadataBytes()} bytes for a ${m.config.memory / 1024 ** 3} GiB machine`);
  return out.join("\n") + "\n";
}
