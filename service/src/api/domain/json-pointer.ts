/**
 * A JSON pointer (RFC 6901) in its URI fragment form, as problems name fields: each segment's `~`
 * and `/` escaped, then percent-encoded (a lone surrogate, which no URI can carry, as U+FFFD).
 * Concatenated as they were, a field named `a/b` pointed at `b` inside `a`.
 */
export function pointerTo(...segments: Array<string | number>): string {
  return `#${segments.map((segment) => `/${encodeURIComponent(String(segment).toWellFormed().replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('')}`;
}
