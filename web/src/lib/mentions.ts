// @mention autocomplete: find the query being typed, and pick the people it may mean.

export interface Candidate {
  userId: string;
  name: string;
}

/** The @query just before the caret, or null when the caret is not in one. */
export function mentionQuery(text: string, caret: number): { query: string; start: number } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@]{0,32})$/u.exec(before);
  if (!match) return null;
  return { query: match[2]!, start: before.length - match[2]!.length - 1 };
}

export function filterCandidates(candidates: readonly Candidate[], query: string, limit = 8): Candidate[] {
  const q = query.toLowerCase();
  const scored = candidates
    .map((c) => {
      const name = c.name.toLowerCase();
      const score = name.startsWith(q) ? 0 : name.split(/\s+/).some((w) => w.startsWith(q)) ? 1 : name.includes(q) ? 2 : -1;
      return { c, score };
    })
    .filter((x) => x.score >= 0)
    .sort((a, b) => a.score - b.score || a.c.name.localeCompare(b.c.name));
  return scored.slice(0, limit).map((x) => x.c);
}

/** Replaces the @query with the chosen name; returns the new text and caret. */
export function insertMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/** The mentioned ids whose @name is still in the text (the user may have deleted some). */
export function mentionsInText(text: string, chosen: ReadonlyMap<string, string>): string[] {
  return [...chosen].filter(([, name]) => text.includes(`@${name}`)).map(([id]) => id);
}
