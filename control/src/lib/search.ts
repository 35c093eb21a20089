/** A `LIKE` pattern matching `term` anywhere; `%`, `_` and `\` in the term are literal text. */
export function likeContains(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
