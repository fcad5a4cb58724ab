#!/usr/bin/env node
/**
 * The `pinlab` command. Reads files and prints; all modelling is in src/kernel.
 */
import { PinlabError } from "../kernel/errors.js";
import { runDemo } from "./demo.js";

const USAGE = `pinlab — an executable model of Linux 6.18 page pinning (GUP/PUP)

Usage:
  pinlab demo            boot a machine, map, fault, fork, pin, and print what the kernel did
  pinlab --help          this text

Examples:
  npx pinlab demo
`;

function main(argv: string[]): number {
  const [cmd] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === "demo") {
    process.stdout.write(runDemo());
    return 0;
  }
  process.stderr.write(`pinlab: unknown command '${cmd}'\n\n${USAGE}`);
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof PinlabError) {
    process.stderr.write(`pinlab: ${e.message}\n`);
    process.exitCode = 2;
  } else throw e;
}
