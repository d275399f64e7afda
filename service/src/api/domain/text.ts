/**
 * Text folding for search. The same function folds stored titles (at insert time) and search
 * terms, so matching is identical on every database: case-insensitive and accent-insensitive,
 * without relying on any database collation.
 */

// Letters that carry no combining mark under NFKD but that readers treat as plain letters.
const LETTER_EQUIVALENTS: Record<string, string> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i', ħ: 'h',
};
const EQUIVALENT_LETTERS = new RegExp(`[${Object.keys(LETTER_EQUIVALENTS).join('')}]`, 'g');
const COMBINING_MARKS = /\p{M}+/gu;
/** Conjoining Hangul jamo, which NFKD splits a syllable into. */
const HANGUL_JAMO = /[\u1100-\u11ff]/;

/**
 * Lower case turns Σ into ς at the end of a word and σ elsewhere, so "ΚΟΣΜΟΣ" would fold to
 * "κοσμος" and the term "ΚΟΣ" to "κος", no substring of it: both forms fold to σ, as Unicode's
 * case folding has it.
 */
const withoutFinalSigma = (text: string) => (text.includes('ς') ? text.replaceAll('ς', 'σ') : text);

/**
 * The version of the folding below; data/refold.ts brings stored titles and URIs to it. Version 2:
 * final sigma folds to σ, and Hangul syllables are put back together after their marks are gone
 * (left as jamo, "하" was a substring of "한").
 */
export const FOLDING_VERSION = 2;

/**
 * Two shortcuts for a load, which folds every title it writes (the full folding was about a fifth
 * of a load's CPU on its worker): ASCII, which NFKD leaves as it is and where nothing is a mark,
 * an equivalent letter, a sigma or a jamo, folds by lower case alone; text within Latin-1 and
 * Latin Extended-A folds character by character from a table of the full folding, since nothing
 * in that range folds differently next to another character (it holds no combining character,
 * every decomposition in it starts with a base character, and it has no sigma and no jamo;
 * tests/unit/api/domain/text.test.ts compares every pair).
 */
// Printable characters only (text with control characters takes the full folding).
const ASCII = /^[ -~]*$/;
const LATIN = /^[ -~\u00a0-\u017f]*$/;
const LATIN_FOLDS = Array.from({ length: 0x180 }, (_, code) => foldUnicode(String.fromCharCode(code)));

export function foldText(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  if (!LATIN.test(text)) return foldUnicode(text);
  let folded = '';
  for (let i = 0; i < text.length; i += 1) folded += LATIN_FOLDS[text.charCodeAt(i)];
  return folded;
}

/** The folding in full, for any text; foldText takes its shortcuts where the result is the same. */
export function foldUnicode(text: string): string {
  const folded = withoutFinalSigma(
    text
      .normalize('NFKD')
      .toLowerCase()
      .normalize('NFKD')
      .replace(COMBINING_MARKS, '')
      .replace(EQUIVALENT_LETTERS, (letter) => LETTER_EQUIVALENTS[letter] ?? letter),
  );
  return HANGUL_JAMO.test(folded) ? folded.normalize('NFC') : folded;
}

export function foldUri(uri: string): string {
  return withoutFinalSigma(uri.toLowerCase());
}

/** The escape character used in every LIKE; `!` means the same in MySQL, MariaDB and SQLite literals. */
export const LIKE_ESCAPE = '!';

/** A LIKE pattern matching `term` anywhere, with `%`, `_` (and the escape) taken literally. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[!%_]/g, (c) => LIKE_ESCAPE + c)}%`;
}
