/**
 * `pinlab demo` (src/cli/demo.ts) runs the showcase from examples/ and
 * prints each scenario's story and its run; every showcase scenario passes.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { examplesDir, runDemo, SHOWCASE, story, wrap } from "../../src/cli/demo.js";

describe("pinlab demo", () => {
  const out = runDemo();

  it("finds examples/ from the sources as it does from dist/", () => {
    expect(examplesDir()).toBe(new URL("../../examples/", import.meta.url).pathname);
  });

  it("prints every showcase scenario's story, its run and PASS", () => {
    expect(out).toMatch(/^pinlab demo — /);
    for (const [i, name] of SHOWCASE.entries()) {
      expect(out).toContain(`${i + 1}/${SHOWCASE.length}  examples/${name}`);
      const source = readFileSync(examplesDir() + name, "utf8");
      const first = story(source)[0];
      expect(first.length).toBeGreaterThan(10);
      expect(out).toContain(`  ${first}\n`);
      const title = /^scenario "([^"]+)"/m.exec(source)?.[1] ?? "";
      expect(out).toContain(`scenario "${title}"`);
    }
    expect(out.match(/^PASS: /gm)).toHaveLength(SHOWCASE.length);
    expect(out).toContain(`${SHOWCASE.length}/${SHOWCASE.length} showcase scenarios passed.`);
  });

  it("shows hazards with the pin that caused them, and no kernel events", () => {
    expect(out).toContain("alloc_failure");
    expect(out).toMatch(/pinned by vfio \(pin_user_pages_remote FOLL_WRITE\)/);
    expect(out).not.toMatch(/^\s+· /m);
  });

  it("is deterministic", () => {
    expect(runDemo()).toBe(out);
  });

  it("story() is the leading comment block without its `# `", () => {
    expect(story("# one\n#\n# two\nscenario \"x\"\n# not this\n")).toEqual(["one", "", "two"]);
  });

  it("wrap() breaks long lines at spaces and indents the continuation", () => {
    expect(wrap("  aaaa bbbb cccc", 10)).toEqual(["  aaaa", "    bbbb", "    cccc"]);
    expect(wrap("short", 10)).toEqual(["short"]);
    expect(wrap("  averyveryverylongword", 10)).toEqual(["  averyveryverylongword"]);
  });
});
