/** Running scenario text for the detector tests, and reading what the detectors found. */
import { expect } from "vitest";
import type { HazardFinding, HazardName } from "../../src/observe/hazard.js";
import { compile, run, type RunOptions, type ScenarioResult } from "../../src/scenario/index.js";

/** Compile (which must be clean) and run. */
export function runSrc(src: string, opts: RunOptions = {}): ScenarioResult {
  const c = compile(src);
  expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return run(c, opts);
}

/** The findings of one hazard. */
export function found(r: ScenarioResult, h: HazardName): HazardFinding[] {
  return r.hazards.filter((f) => f.hazard === h);
}

/** Every step ran and every expectation held (the scenario itself is right). */
export function ranClean(r: ScenarioResult): void {
  const bad = r.steps
    .filter((s) => s.status !== "ok")
    .map((s) => `${s.line}: ${s.text}: ${JSON.stringify(s.expect ?? s.assert ?? s.error)}`);
  expect(bad).toEqual([]);
}

/** Anonymous private memory of process A, one page, written once. */
export const ANON = `process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: memset(buf, 0x11, 4K) = 0
`;

/** A one-page file of a block file system mapped shared by A and written once (line 7). */
export function sharedFile(fs = "ext4"): string {
  return `mount ${fs} /data
process A
A: fd = open("/data/f", O_RDWR|O_CREAT) = 3
A: ftruncate(fd, 4K) = 0
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0) = ok
A: memset(buf, 0x11, 4K) = 0
`;
}
