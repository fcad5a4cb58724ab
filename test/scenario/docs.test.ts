/**
 * docs/language.md stays in step with the language: it names every call,
 * observer, hazard, diagnostic code, actor, mount kind and machine key, and
 * every example line in it parses and uses only known names.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HAZARD_NAMES } from "../../src/observe/hazard.js";
import { CALL_NAMES, compile, DIAGNOSTIC_CODES, OBSERVER_NAMES, vocab } from "../../src/scenario/index.js";

const DOC = readFileSync(new URL("../../docs/language.md", import.meta.url).pathname, "utf8");

/** The contents of the fenced blocks without a language tag (scenario text). */
function codeBlocks(md: string): string[] {
  const out: string[] = [];
  let cur: string[] | null = null;
  let plain = false;
  for (const line of md.split("\n")) {
    if (line.startsWith("```")) {
      if (cur) {
        if (plain) out.push(cur.join("\n"));
        cur = null;
      } else {
        cur = [];
        plain = line.trim() === "```";
      }
    } else if (cur) cur.push(line);
  }
  return out;
}
const BLOCKS = codeBlocks(DOC);

describe("docs/language.md", () => {
  const mentions = (name: string) => DOC.includes(`\`${name}`) || DOC.includes(`| ${name} |`);
  it("documents every call and observer with its signature", () => {
    expect(CALL_NAMES.filter((n) => !DOC.includes(`\`${n}(`))).toEqual([]);
    expect(OBSERVER_NAMES.filter((n) => !DOC.includes(`\`${n}(`))).toEqual([]);
  });
  it("gives every call and observer an example", () => {
    const examples = BLOCKS.join("\n");
    expect(CALL_NAMES.filter((n) => !new RegExp(`\\b${n}\\(`).test(examples))).toEqual([]);
    expect(OBSERVER_NAMES.filter((n) => !new RegExp(`\\b${n}\\(`).test(examples))).toEqual([]);
  });
  it("lists every hazard, diagnostic code, actor, mount kind and machine key", () => {
    expect(HAZARD_NAMES.filter((h) => !mentions(h))).toEqual([]);
    expect(Object.keys(DIAGNOSTIC_CODES).filter((c) => !DOC.includes(`| ${c} |`))).toEqual([]);
    expect(vocab.KERNEL_ACTOR_NAMES.filter((a) => !mentions(a))).toEqual([]);
    expect(vocab.MOUNT_KINDS.filter((k) => !mentions(k))).toEqual([]);
    expect([...vocab.MACHINE_KEYS.keys()].filter((k) => !k.startsWith("kconfig.") && !mentions(k))).toEqual(
      [],
    );
  });
  it("every example line parses and names only known calls, flags, errnos, hazards and settings", () => {
    const lines = BLOCKS.flatMap((b) => b.split("\n")).filter((l) =>
      /^(scenario|kernel|machine|mount|process|assert|[A-Za-z_]+:) /.test(l),
    );
    expect(lines.length).toBeGreaterThan(100);
    const contextFree = /^PL(0|10[3-9]|2|3)/; // everything but names that need earlier lines
    const bad = lines
      .map((l) => ({
        l,
        ds: compile(l).diagnostics.filter(
          (d) =>
            contextFree.test(d.code) &&
            d.code !== "PL202" &&
            d.code !== "PL205" &&
            d.code !== "PL206" &&
            d.code !== "PL207",
        ),
      }))
      .filter((x) => x.ds.length)
      .map((x) => `${x.l}: ${x.ds.map((d) => `${d.code} ${d.message}`).join("; ")}`);
    expect(bad).toEqual([]);
  });
});
