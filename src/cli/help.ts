/** `pinlab --help` and the help of each command, with examples. */

export const USAGE = `pinlab — an executable model of Linux 6.18 page pinning (GUP/PUP)

Usage:
  pinlab run FILE…       run scenarios: each step, its result, the kernel events and rules
  pinlab test DIR…       run every *.pin under DIR as a test, KTAP output
  pinlab check FILE…     parse and check scenarios without running them
  pinlab demo            boot a machine, map, fault, fork, pin, and print what the kernel did
  pinlab help COMMAND    help on a command (also: pinlab COMMAND --help)

Exit status: 0 all good, 1 a scenario failed (an expectation, an assert, a
call the model cannot run yet), 2 bad input (unreadable file, syntax or check
errors, bad options).

Examples:
  npx pinlab demo
  npx pinlab run examples/fork_io_uring.pin
  npx pinlab test examples
  npx pinlab check --json my.pin > my.json
`;

export const RUN_HELP = `pinlab run — run scenarios on the model

Usage:
  pinlab run [options] FILE…      FILE is a .pin scenario, its .json form, or - for stdin

Prints each step with its result (→), ✓ or ✗ for its expectation (= value)
or assert, and the kernel trace events it caused, each with the kernel rule
([file: function]) that decided it; then hazards and PASS or FAIL.

Options:
  --json            print the full result as JSON (steps, results, events, hazards)
  --seed N          the seed of the kernel's nondeterministic choices (default: machine seed=, else 1)
  --events N|all    events shown per step in human output (default 6)
  --max-pages N     the most pages one step may touch (default 1048576)
  --max-steps N     the most statements a run executes (default 100000)

The same file and seed always give byte-identical output.

Examples:
  pinlab run examples/fork_io_uring.pin
  pinlab run --json --seed 7 a.pin b.pin
  pinlab run --events all a.pin | less
`;

export const CHECK_HELP = `pinlab check — parse and check scenarios

Usage:
  pinlab check [--json] FILE…     FILE is a .pin scenario, its .json form, or - for stdin

Reports every problem at once — unknown calls, flags, errnos, hazards,
undefined names, wrong arity, bad sizes — as FILE:LINE:COL, the line with the
problem underlined, what was expected and a suggestion. Exit status 2 if any.

Options:
  --json            print the scenario's JSON form (the AST and its source map) and the diagnostics

Examples:
  pinlab check examples/*.pin
  pinlab check --json a.pin > a.json && pinlab run a.json
`;

export const TEST_HELP = `pinlab test — run scenarios as tests

Usage:
  pinlab test [options] DIR|FILE…

Runs every *.pin file under each DIR (recursively, in name order) and prints
KTAP: "TAP version 13", the plan "1..N", then "ok N - title" or "not ok N -
title" with the failed expectations, asserts and errors as "# " lines.
A scenario passes when every expectation and assert holds and every step ran.
Exit status 1 if any test failed, 2 if a file could not be read or checked.

Options:
  --seed N          run every scenario with this seed
  --max-pages N     the most pages one step may touch (default 1048576)

Examples:
  pinlab test examples
  pinlab test examples/fork_*.pin
`;

export const DEMO_HELP = `pinlab demo — a guided run: map, fault, fork, COW, THP

Usage:
  pinlab demo
`;
