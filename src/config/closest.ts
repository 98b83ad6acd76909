/** "Did you mean" suggestions: the known names closest to a mistyped one. */

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  const dp: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] ?? 0;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] ?? 0;
      dp[j] = Math.min((dp[j] ?? 0) + 1, (dp[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] ?? 0;
}

/**
 * The known names a typo most likely meant: the nearest by edit distance (at most a third of the
 * word, and at least 2 edits allowed), or names it is a prefix of. Closest first, at most `max`.
 */
export function closestNames(word: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  return [...new Set(known)]
    .map((name) => ({
      name,
      d: name.toLowerCase().startsWith(lower) && lower.length > 0 ? 1 : editDistance(lower, name.toLowerCase()),
    }))
    .filter((c) => c.d <= limit)
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((c) => c.name);
}

/** `did you mean "a" or "b"? ` (with the trailing space), or nothing when no name is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const close = closestNames(word, known);
  if (close.length === 0) return '';
  return `did you mean ${close.map((c) => `"${c}"`).join(' or ')}? `;
}
