#!/usr/bin/env node
/**
 * The `pinlab` command: Node's argv and streams around cli.ts. Reads files
 * and prints; all modelling is in src/kernel, the language in src/scenario.
 */
import { cliMain } from "./cli.js";
import { nodeIo } from "./node_io.js";

// `pinlab run … | head` closes the pipe early: stop quietly, no stack trace
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await cliMain(process.argv.slice(2), nodeIo);
