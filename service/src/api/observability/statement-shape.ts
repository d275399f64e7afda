/** A statement without its data: the VALUES lists cut, then quoted strings, hex literals and numbers masked. */
export function statementShape(sql: string): string {
  return sql
    .replace(/\bvalues\b[\s\S]*$/i, 'values ...')
    .replace(/[xX]'[0-9a-fA-F]*'/g, '?')
    .replace(/(["'])(?:\\.|(?!\1)[^\\])*\1/g, '?')
    .replace(/\b\d+\b/g, '?');
}
