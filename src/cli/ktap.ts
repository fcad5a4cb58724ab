/**
 * KTAP output for `pinlab test` (Documentation/dev-tools/ktap.rst, with the
 * TAP 13 header the kernel's kselftest harness prints): a plan computed
 * from the files found, one `ok`/`not ok` line per scenario, diagnostic
 * lines starting with `#` explaining each failure.
 */

export interface KtapCase {
  /** the scenario's title, or its file when it has none */
  name: string;
  ok: boolean;
  /** `# SKIP …` / `# …` directive after the name, if any */
  directive?: string;
  /** lines printed as `# …` after the result line */
  diagnostics: string[];
}

/** "Fork: COW #2" would start a directive: KTAP names must not contain `#`. */
function safeName(s: string): string {
  return s.replace(/#/g, "No.").replace(/\s+/g, " ").trim();
}

export function ktap(cases: readonly KtapCase[]): string {
  const out = ["TAP version 13", `1..${cases.length}`];
  cases.forEach((c, i) => {
    const d = c.directive ? ` # ${c.directive}` : "";
    out.push(`${c.ok ? "ok" : "not ok"} ${i + 1} - ${safeName(c.name)}${d}`);
    for (const l of c.diagnostics) for (const part of l.split("\n")) out.push(`# ${part}`.trimEnd());
  });
  const pass = cases.filter((c) => c.ok).length;
  out.push(`# Totals: pass:${pass} fail:${cases.length - pass} xfail:0 xpass:0 skip:0 error:0`);
  return out.join("\n") + "\n";
}
