/**
 * The differential corpus (test/oracle/corpus, made by tools/oracle_corpus.ts):
 * the committed files are what the generator makes from today's model, the
 * corpus covers the matrix memory kind × pin mechanism × event, and — where
 * the oracle can run — the live kernel agrees with every scenario.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { oracleRun } from "../../src/oracle/differential.js";
import { oracleAvailability, unavailableMessage } from "../../src/oracle/native.js";
import { portability } from "../../src/oracle/portable.js";
import { compile } from "../../src/scenario/index.js";
import { corpusScenarios, renderScenario } from "../../tools/oracle_corpus.js";

const dir = join(import.meta.dirname, "corpus");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".pin"))
  .sort();
const avail = oracleAvailability();
const because = avail.ok ? "" : ` [skipped: ${unavailableMessage(avail)}]`;

describe("the differential corpus", () => {
  it("has at least 150 portable scenarios over every memory kind, pin mechanism and event", () => {
    expect(files.length).toBeGreaterThanOrEqual(150);
    const parts = files.map((f) => f.replace(/\.pin$/, "").split("_"));
    const kinds = new Set(parts.map((p) => p[0]));
    const events = new Set(parts.map((p) => p[p.length - 1]));
    const mechanisms = new Set(parts.map((p) => p.slice(1, -1).join("_")));
    for (const k of ["anon", "thp", "hugetlb2M", "hugetlb1G", "memfd", "tmpfs", "ext4-shared", "ext4-private", "secretmem", "zero"])
      expect(kinds).toContain(k);
    for (const m of ["io_uring", "vmsplice", "odirect", "process_vm", "proc_mem", "populate"]) expect(mechanisms).toContain(m);
    for (const e of [
      "fork-before",
      "fork-after",
      "mprotect",
      "dontneed",
      "munmap",
      "ftruncate",
      "split",
      "collapse",
      "ksm",
      "child-writes",
      "uffd-move",
      "move-pages",
    ])
      expect(events).toContain(e);
    for (const f of files) {
      const c = compile(readFileSync(join(dir, f), "utf8"));
      expect(c.diagnostics, f).toEqual([]);
      expect(portability(c).reasons, f).toEqual([]);
    }
  });

  it("is what tools/oracle_corpus.ts makes from the model today (npm run gen:oracle-corpus)", () => {
    const made = corpusScenarios();
    expect(made.map((s) => `${s.name}.pin`).sort()).toEqual(files);
    for (const s of made) expect(readFileSync(join(dir, `${s.name}.pin`), "utf8"), s.name).toBe(renderScenario(s));
  }, 120_000);

  it.skipIf(!avail.ok)(
    `agrees with the live kernel, scenario by scenario${because}`,
    async () => {
      const problems: string[] = [];
      for (const f of files) {
        const r = await oracleRun(compile(readFileSync(join(dir, f), "utf8")));
        if (r.status === "agree" && r.residue.length === 0) continue;
        // a machine whose memory is too fragmented for a 1G page cannot run those scenarios:
        // that is the machine, not a divergence (the reason names the pool)
        if (r.status === "unavailable" && r.reasons?.every((x) => /hugetlb pool/.test(x.why))) continue;
        const d = r.divergence;
        problems.push(
          `${f}: ${r.status}` +
            (d ? ` at line ${d.line}: ${d.text}\n  model:  ${d.model}\n  kernel: ${d.kernel}` : "") +
            (r.fault ? ` ${r.fault.kind}: ${r.fault.detail}` : "") +
            (r.reasons ? ` ${r.reasons.map((x) => x.why).join("; ")}` : "") +
            (r.residue.length ? ` residue: ${r.residue.join("; ")}` : ""),
        );
      }
      expect(problems.join("\n")).toBe("");
    },
    600_000,
  );
});
