/**
 * docs/tutorial.md is followed by newcomers command by command, so every
 * scenario in it must check, and every `npx pinlab …` command in it must
 * run — in-process, over the files the tutorial asks the reader to save —
 * with the exit status the tutorial announces ("# exit status N", else 0).
 * The step lines of the output it shows must be what pinlab prints, and the
 * JSON one-liner must print what the tutorial says. The README's scenario
 * must pass too.
 *
 * The reader works in my/ inside the clone, so `../examples/…` is the repo's
 * examples/ folder.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cli, type CliIo } from "../../src/cli/cli.js";
import { compile, run } from "../../src/scenario/index.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const TUTORIAL = readFileSync(ROOT + "docs/tutorial.md", "utf8");
const README = readFileSync(ROOT + "README.md", "utf8");

interface Block {
  /** the info string: "pin cow.pin", "sh", "" */
  info: string;
  text: string;
}

function blocks(md: string): Block[] {
  const out: Block[] = [];
  let cur: Block | null = null;
  for (const line of md.split("\n")) {
    if (line.startsWith("```")) {
      if (cur) {
        out.push(cur);
        cur = null;
      } else cur = { info: line.slice(3).trim(), text: "" };
    } else if (cur) cur.text += line + "\n";
  }
  return out;
}

const BLOCKS = blocks(TUTORIAL);
/** The files the tutorial asks the reader to save: ```pin NAME */
const SAVED = new Map(
  BLOCKS.filter((b) => b.info.startsWith("pin ")).map((b) => [b.info.split(/\s+/)[1], b.text]),
);
const CHECK_FAILS = new Set(
  BLOCKS.filter((b) => /^pin \S+ check-fails$/.test(b.info)).map((b) => b.info.split(/\s+/)[1]),
);

/** A fake file system: the saved files in my/, the repo's examples/ one level up. */
function tutorialIo(files: Map<string, string>) {
  const out: string[] = [];
  const real = (p: string) => (p.startsWith("../") ? ROOT + p.slice(3) : null);
  const io: CliIo = {
    stdout: (s) => out.push(s),
    stderr: (s) => out.push(s),
    readFile: (p) => {
      const f = files.get(p);
      if (f !== undefined) return f;
      const r = real(p);
      if (r) return readFileSync(r, "utf8");
      throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    },
    isDirectory: (p) => p.replace(/\/$/, "") === "../examples",
    walk: (d) =>
      readdirSync(ROOT + "examples")
        .filter((f) => f.endsWith(".pin"))
        .map((f) => `${d.replace(/\/$/, "")}/${f}`),
    writeFile: (p, text) => void files.set(p, text),
  };
  return { io, output: () => out.join("") };
}

interface Command {
  line: string;
  argv: string[];
  /** `> file`: stdout goes there */
  redirect?: string;
  status: number;
}

/** `npx pinlab ARGS [> FILE] [# … exit status N …]` */
function parseCommand(line: string): Command | null {
  const m = /^npx pinlab ([^#]*?)\s*(?:#(.*))?$/.exec(line.trim());
  if (!m) return null;
  let args = m[1];
  let redirect: string | undefined;
  const r = /^(.*?)\s*>\s*(\S+)$/.exec(args);
  if (r) [, args, redirect] = r;
  const st = /exit status (\d+)/.exec(m[2] ?? "");
  return { line, argv: args.split(/\s+/).filter(Boolean), redirect, status: st ? Number(st[1]) : 0 };
}

/** The commands of the ```sh blocks, each with the output block shown after it (if any). */
function walkthrough(): { cmd: Command; shown?: string; nodeScript?: string }[] {
  const out: { cmd: Command; shown?: string; nodeScript?: string }[] = [];
  let last: { cmd: Command; shown?: string; nodeScript?: string } | null = null;
  for (const b of BLOCKS) {
    if (b.info === "sh") {
      for (const line of b.text.split("\n")) {
        const cmd = parseCommand(line);
        if (cmd) out.push((last = { cmd }));
        const node = /^node -e '(.*)'$/.exec(line.trim());
        if (node && last) last.nodeScript = node[1];
      }
    } else if (b.info === "" && last && last.shown === undefined) last.shown = b.text;
  }
  return out;
}

describe("docs/tutorial.md", () => {
  it("saves the files its commands use", () => {
    expect([...SAVED.keys()]).toEqual(["cow.pin", "pinned.pin", "broken.pin", "typo.pin"]);
  });

  it.each([...SAVED.keys()])("%s checks as the tutorial says", (name) => {
    const c = compile(SAVED.get(name) ?? "");
    if (CHECK_FAILS.has(name)) expect(c.diagnostics.map((d) => d.code)).toEqual(["PL105", "PL103", "PL102"]);
    else expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });

  it("broken.pin passes once `assert no hazards` becomes `assert hazard cpu_dev_divergence`", () => {
    const text = (SAVED.get("broken.pin") ?? "").replace("assert no hazards", "assert hazard cpu_dev_divergence");
    expect(TUTORIAL).toContain("assert hazard cpu_dev_divergence");
    expect(run(compile(text)).passed).toBe(true);
  });

  const steps = walkthrough();
  it("shows at least the run, check, test, --json, --trace and explain commands", () => {
    const all = steps.map((s) => s.cmd.argv.join(" "));
    for (const want of ["demo", "run cow.pin", "check typo.pin", "run --json", "run --trace", "test", "explain"])
      expect(all.some((a) => a.startsWith(want)), want).toBe(true);
  });

  describe("every command works as shown, in order", () => {
    const files = new Map(SAVED);
    it.each(steps.map((s, i) => [i + 1, s.cmd.line, s] as const))("%i: %s", (_i, _line, s) => {
      const t = tutorialIo(files);
      const status = cli(s.cmd.argv, t.io);
      const output = t.output();
      if (s.cmd.redirect) files.set(s.cmd.redirect, output);
      expect(status, output.slice(0, 2000)).toBe(s.cmd.status);
      if (s.cmd.argv.includes("--trace")) {
        const path = s.cmd.argv[s.cmd.argv.indexOf("--trace") + 1];
        expect(JSON.parse(files.get(path) ?? "null")).toHaveProperty("traceEvents");
      }
      // the step lines of the output the tutorial shows are what pinlab prints
      if (s.shown !== undefined && !s.cmd.redirect)
        for (const line of s.shown.split("\n").filter((l) => /^\s+\d+ {2}\S/.test(l)))
          expect(output, `${s.cmd.line}: shown line missing`).toContain(line);
      if (s.nodeScript !== undefined) {
        const printed: string[] = [];
        const require = () => ({ readFileSync: (p: string) => files.get(p) ?? "" });
        const console = { log: (...a: unknown[]) => printed.push(a.map(String).join(" ")) };
        new Function("require", "console", s.nodeScript)(require, console);
        const shownAfter = BLOCKS[BLOCKS.findIndex((b) => b.text.includes(s.nodeScript ?? "\0")) + 1];
        expect(printed.join("\n") + "\n").toBe(shownAfter.text);
      }
    });
  });
});

describe("README.md", () => {
  it("its scenario passes", () => {
    const b = blocks(README).find((x) => x.text.startsWith("scenario "));
    expect(b).toBeDefined();
    const c = compile(b?.text ?? "");
    expect(c.diagnostics).toEqual([]);
    const r = run(c);
    expect(r.passed).toBe(true);
    expect(r.hazards).toEqual([]);
  });
  it("links the tutorial, the language reference and the examples index", () => {
    for (const l of ["docs/tutorial.md", "docs/language.md", "examples/README.md"]) expect(README).toContain(`](${l})`);
  });
});
