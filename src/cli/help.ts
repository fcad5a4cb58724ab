/** `pinlab --help` and the help of each command, with examples. */

export const USAGE = `pinlab — an executable model of Linux 6.18 page pinning (GUP/PUP)

Usage:
  pinlab run FILE…       run scenarios: each step, its result, the kernel events and rules
  pinlab test DIR…       run every *.pin under DIR as a test, KTAP output
  pinlab check FILE…     parse and check scenarios without running them
  pinlab explain WHAT…   what the model says about an errno, spec rule, kernel function, event or hazard
  pinlab demo            run the showcase scenarios and tell their stories
  pinlab oracle DIR…     run scenarios on the model and on this machine's Linux, compare step by step
  pinlab help COMMAND    help on a command (also: pinlab COMMAND --help)

Exit status: 0 all good, 1 a scenario failed (an expectation, an assert, a
call the model cannot run yet; for test also a hazard it does not assert),
2 bad input (unreadable file, syntax or check errors, bad options, nothing
to explain), 3 the oracle is unavailable on this machine.

Examples:
  npx pinlab demo
  npx pinlab run examples/fork_io_uring.pin
  npx pinlab run --trace fork.json examples/fork_io_uring.pin
  npx pinlab test examples
  npx pinlab check --json my.pin > my.json
  npx pinlab explain EFAULT
  sudo npx pinlab oracle test/oracle/corpus
`;

export const RUN_HELP = `pinlab run — run scenarios on the model

Usage:
  pinlab run [options] FILE…      FILE is a .pin scenario, its .json form, or - for stdin

Prints each step with its result (→), ✓ or ✗ for its expectation (= value)
or assert, and the kernel trace events it caused, each with the kernel rule
([file: function]) that decided it; then the hazards the detectors found —
each with the step and line it arose at, what happened, the kernel rule
behind it and the pins responsible (who took them, with which API and
flags, at which line) — and PASS or FAIL.

Options:
  --json            print the full result as JSON (steps, results, events, hazards)
  --trace FILE      also write the runs as Chrome/Perfetto trace-event JSON (open in
                    ui.perfetto.dev or chrome://tracing): steps, kernel events, hazards
  --seed N          the seed of the kernel's nondeterministic choices (default: machine seed=, else 1)
  --events N|all    events shown per step in human output (default 6)
  --max-pages N     the most pages one step may touch (default 1048576)
  --max-steps N     the most statements a run executes (default 100000)

The same file and seed always give byte-identical output. With several
files and a terminal on stderr, a progress bar is drawn there (never with
--json, when stderr is redirected, or when CI is set).

Examples:
  pinlab run examples/fork_io_uring.pin
  pinlab run --json --seed 7 a.pin b.pin
  pinlab run --events all a.pin | less
  pinlab run --trace out.json a.pin     # then open out.json in ui.perfetto.dev
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
  pinlab check - < a.pin
`;

export const TEST_HELP = `pinlab test — run scenarios as tests

Usage:
  pinlab test [options] DIR|FILE…

Runs every *.pin file under each DIR (recursively, in name order) and prints
KTAP: "TAP version 13", the plan "1..N", then "ok N - title" or "not ok N -
title" with the failed expectations, asserts and errors as "# " lines.
A scenario passes when every expectation and assert holds, every step ran,
and every hazard found is one it asserts (\`assert hazard NAME\`): a hazard
the scenario does not expect is reported as "# FILE:LINE: unexpected hazard".
Exit status 1 if any test failed, 2 if a file could not be read or checked.
A progress bar is drawn on stderr when it is a terminal (not in CI).

Options:
  --seed N          run every scenario with this seed
  --max-pages N     the most pages one step may touch (default 1048576)
  --max-steps N     the most statements a run executes (default 100000)

Examples:
  pinlab test examples
  pinlab test examples/fork_*.pin
  pinlab test --seed 3 examples > results.ktap
`;

export const EXPLAIN_HELP = `pinlab explain — what the model says, and where in the kernel

Usage:
  pinlab explain WHAT…

WHAT is any of:
  an errno            EFAULT, -EBUSY: its meaning, the GUP spec's summary, and every
                      kernel function of the model that returns it
  a spec rule         P5, LT-2, [VMA-3]: the rule's text and the functions citing it
  a kernel function   do_wp_page, check_vma_flags(): its file, what it decides, its
                      errnos, spec rules and trace events
  a trace event       cow_copy: the kernel functions that emit it
  a kernel file       mm/gup.c: the functions of that file the model implements
  a hazard            lost_write: what it means and what its detector watches
  a scenario call     io_uring_register_buffers: what it does and who decides it

The index is built from the model's sources (src/observe/rule_table.ts) and the
spec's rule identifiers. Exit status 2 when nothing matches (with a suggestion).

Examples:
  pinlab explain EFAULT
  pinlab explain P5
  pinlab explain do_wp_page
  pinlab explain "[VMA-3]" cow_copy mm/cma.c
`;

export const DEMO_HELP = `pinlab demo — the showcase: famous pinning cases, told and run

Usage:
  pinlab demo

Runs a handful of the scenarios of examples/ and prints, for each, its story
and the run: every step with its result, the hazards with their pinners, and
the verdict. \`pinlab run --events all FILE\` shows the kernel events too.

Examples:
  pinlab demo
  pinlab demo | less
`;

export const ORACLE_HELP = `pinlab oracle — compare the model with this machine's Linux kernel

Usage:
  pinlab oracle [options] DIR|FILE…

Runs each scenario (every *.pin under a DIR) twice: on the model, and as real
system calls in real processes on the running kernel (native/pinlab-runner,
built by npm install; Linux and root needed). Compares step by step: each
call's return value or errno, the content words read, and every observer of
an assert the kernel exposes (pagemap, kpageflags, kpagecount, status).
Where the kernel is nondeterministic (addresses, pids, pfns, ksmd's timing)
the model allows a set of outcomes; the note printed with a step says why.

Prints per scenario: "agree", the first divergence ("DIVERGE FILE:LINE" with
both sides' evidence), "not portable" (it uses a kernel-side actor such as
vfio or cma_alloc, or a machine the live kernel cannot be set to: not a
failure), "unavailable" (the live machine cannot provide what it needs, e.g.
huge pages), or "FAULT" (the run hung, crashed or passed its memory bound).
Everything a run made — processes, files, mounts, io_uring buffers, hugetlb
pool and sysctl changes — is undone when it ends, even when it is killed.

Exit status: 0 every portable scenario agrees, 1 a divergence, fault or
residue, 2 bad input, 3 the oracle is unavailable here ("oracle
unavailable: <reason>": not Linux, not root, no C compiler).

Options:
  --json            one JSON document: every scenario's comparison
  --verbose         every step with both sides' values, not only the first divergence
  --seed N          the model's seed
  --as-limit-mb N   the memory bound (RLIMIT_AS) of the runner's processes (default 8192)
  --max-pages N     the model's bound on pages per step
  --max-steps N     the model's bound on statements per run

Examples:
  sudo npx pinlab oracle test/oracle/corpus
  sudo npx pinlab oracle --verbose examples/fork_io_uring.pin
`;
