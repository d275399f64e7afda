/**
 * Trigrams of folded text, by code point. The substring index stores every distinct trigram of a
 * record's folded title; a term's trigrams must all be present in any title that contains it.
 */
export const GRAM = 3;

export function trigramsOf(folded: string): string[] {
  const chars = Array.from(folded);
  const grams = new Set<string>();
  for (let i = 0; i + GRAM <= chars.length; i += 1) {
    // Concatenation, not slice().join(): this runs for every code point of every title loaded.
    let gram = '';
    for (let k = 0; k < GRAM; k += 1) gram += chars[i + k];
    grams.add(gram);
  }
  return [...grams];
}
