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

export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .replace(EQUIVALENT_LETTERS, (letter) => LETTER_EQUIVALENTS[letter] ?? letter);
}

export function foldUri(uri: string): string {
  return uri.toLowerCase();
}

/** The escape character used in every LIKE; `!` means the same in MySQL, MariaDB and SQLite literals. */
export const LIKE_ESCAPE = '!';

/** A LIKE pattern matching `term` anywhere, with `%`, `_` (and the escape) taken literally. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[!%_]/g, (c) => LIKE_ESCAPE + c)}%`;
}
