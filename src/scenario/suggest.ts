/**
 * "Did you mean": the closest names of a vocabulary to a misspelt one, by
 * edit distance (optimal string alignment: insertions, deletions,
 * substitutions and adjacent transpositions, case-insensitive).
 */

/** Edit distance with adjacent transpositions, ignoring case. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const m = s.length;
  const n = t.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n];
}

/**
 * The closest candidates to `word` (at most `max`, all at the best
 * distance found); only those within a distance that still looks like a
 * typo: a third of the word's length, at least 1 (0 for names of one or two
 * characters), at most 3. A case-only difference always qualifies.
 */
export function closest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = word.length <= 2 ? 0 : Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  const scored: { c: string; d: number }[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c) || c === word) continue;
    seen.add(c);
    const d = editDistance(word, c);
    if (d <= limit) scored.push({ c, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : x.c > y.c ? 1 : 0));
  const best = scored.length ? scored[0].d : 0;
  return scored
    .filter((x) => x.d === best)
    .slice(0, max)
    .map((x) => x.c);
}

/** "did you mean `mmap`?" / "did you mean `a`, `b` or `c`?", or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  if (c.length === 0) return undefined;
  const q = c.map((x) => `\`${x}\``);
  const list = q.length === 1 ? q[0] : `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`;
  return `did you mean ${list}?`;
}

/** "a, b, c, … (N in all)" for an "expected:" line. */
export function listSome(names: readonly string[], max = 8): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")}, … (${names.length} in all)`;
}
