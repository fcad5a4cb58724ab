/**
 * The index of kernel rules behind `pinlab explain` (src/observe/rule_table.ts)
 * is what src/observe/rule_extract.ts reads from src/kernel today. After an
 * intended change to the model, regenerate it:
 *
 *     PINLAB_PROMOTE=1 npx vitest run test/observe/rules.test.ts && npx prettier --write src/observe/rule_table.ts
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERRNO } from "../../src/kernel/include/errno.js";
import { extractRules, type SourceFile } from "../../src/observe/rule_extract.js";
import { RULE_TABLE } from "../../src/observe/rule_table.js";
import { SPEC_RULES } from "../../src/observe/spec_rules.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const TABLE = join(ROOT, "src/observe/rule_table.ts");

function kernelSources(): SourceFile[] {
  const out: SourceFile[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      const rel = `${dir}/${name}`;
      if (statSync(join(ROOT, rel)).isDirectory()) visit(rel);
      else if (name.endsWith(".ts") && rel !== "src/kernel/machine.ts")
        out.push({ path: rel, text: readFileSync(join(ROOT, rel), "utf8") });
    }
  };
  visit("src/kernel");
  return out;
}

function render(rules: ReturnType<typeof extractRules>): string {
  return [
    "/**",
    " * GENERATED from src/kernel by src/observe/rule_extract.ts — do not edit. Regenerate with",
    " * PINLAB_PROMOTE=1 npx vitest run test/observe/rules.test.ts (see that file).",
    " * The kernel functions the model implements: file, what each decides, the errnos it",
    " * returns, the spec rules it cites and the trace events it emits.",
    " */",
    'import type { KernelRule } from "./rule_extract.js";',
    "",
    `export const RULE_TABLE: readonly KernelRule[] = ${JSON.stringify(rules, null, 2)};`,
    "",
  ].join("\n");
}

describe("the kernel rule index", () => {
  const rules = extractRules(kernelSources());
  it("is up to date with src/kernel", () => {
    if (process.env.PINLAB_PROMOTE) writeFileSync(TABLE, render(rules));
    expect(RULE_TABLE).toEqual(rules);
  });
  it("knows the functions, errnos and events the docs talk about", () => {
    const fn = (name: string) => rules.filter((r) => r.fn === name);
    expect(fn("check_vma_flags")[0]).toMatchObject({ file: "mm/gup.c" });
    expect(fn("check_vma_flags")[0].errnos).toContain("EFAULT");
    expect(fn("wp_page_copy")[0]).toMatchObject({ file: "mm/memory.c" });
    expect(fn("wp_page_copy")[0].events).toEqual(expect.arrayContaining(["cow_copy", "unshare_copy"]));
    expect(fn("do_wp_page").length).toBeGreaterThan(0);
    expect(rules.filter((r) => r.errnos.includes("EFAULT")).length).toBeGreaterThan(10);
    expect(
      rules.filter((r) => r.spec.includes("P5")).length + rules.filter((r) => r.spec.includes("LT-2")).length,
    ).toBeGreaterThan(0);
  });
  it("names only real errnos and, where it cites the spec, known rule ids", () => {
    for (const r of rules) for (const e of r.errnos) expect(e in ERRNO, `${r.fn}: ${e}`).toBe(true);
    const unknown = rules.flatMap((r) =>
      r.spec.filter((s) => !(s in SPEC_RULES) && !/^EXP-/.test(s)).map((s) => `${r.fn}: ${s}`),
    );
    expect(unknown).toEqual([]);
  });
  it("every trace event of the model is emitted by some rule", () => {
    const emitted = new Set(rules.flatMap((r) => r.events));
    const all = new Set<string>();
    for (const f of kernelSources())
      for (const m of f.text.matchAll(/trace\.emit\(\s*"([a-z_0-9]+)"/g)) all.add(m[1]);
    expect([...all].filter((e) => !emitted.has(e))).toEqual([]);
  });
});
