#!/usr/bin/env node
// Builds native/pinlab-runner, the live-kernel oracle's runner (docs/oracle-protocol.md).
// Never fails the install: where the runner cannot be built it says why
// ("oracle unavailable: <reason>") and exits 0; the oracle's tests then skip.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "native", "runner.c");
const binary = join(root, "native", "pinlab-runner");

function unavailable(reason) {
  console.log(`oracle unavailable: ${reason}`);
  process.exit(0);
}

if (process.platform !== "linux")
  unavailable(`not Linux (this is ${process.platform}); native/pinlab-runner not built`);
if (!existsSync(source)) unavailable(`${source} is missing`);

const compiler = [process.env.CC, "cc", "gcc", "clang"]
  .filter(Boolean)
  .find((c) => spawnSync(c, ["--version"], { stdio: "ignore" }).status === 0);
if (!compiler) unavailable("no C compiler (cc, gcc or clang) to build native/runner.c");

const args = ["-O2", "-Wall", "-Wextra", "-o", binary, source];
const r = spawnSync(compiler, args, { stdio: "inherit" });
if (r.status !== 0) unavailable(`${compiler} ${args.join(" ")} failed (exit ${r.status ?? r.signal})`);
console.log(`built ${binary}`);
