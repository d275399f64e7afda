/**
 * Trigrams of folded text, by code point. The substring index stores every distinct trigram of a
 * record's folded title; a term's trigrams must all be present in any title that contains it.
 */
export const GRAM = 3;

/** Surrogate halves: where a string has none, each UTF-16 unit is a code point. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** The distinct trigrams of `folded`, in the order they first occur. */
export function trigramsOf(folded: string): string[] {
  const grams = new Set<string>();
  eachTrigram(folded, (gram) => grams.add(gram));
  return [...grams];
}

/**
 * Calls `each` with every trigram of `folded` in order, repeats included: a load runs this for
 * every title it writes, so it builds no set and no array of code points unless it must.
 */
export function eachTrigram(folded: string, each: (gram: string) => void): void {
  if (!SURROGATE.test(folded)) {
    for (let i = 0; i + GRAM <= folded.length; i += 1) each(folded.slice(i, i + GRAM));
    return;
  }
  const chars = Array.from(folded);
  for (let i = 0; i + GRAM <= chars.length; i += 1) {
    let gram = '';
    for (let k = 0; k < GRAM; k += 1) gram += chars[i + k];
    each(gram);
  }
}
