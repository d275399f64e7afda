import { createHash } from 'node:crypto';

/**
 * Opaque keyset cursors. A cursor holds the position after the last record of a page (its date
 * and id) and a digest of the filters it was issued for, followed by a checksum. Editing a
 * cursor, or using it with other filters, is detected and rejected. The checksum is not a secret:
 * a cursor only reveals a position in results the caller could already read.
 */

export type Position = { dateMs: number; id: number };

const VERSION = 'c1';

function digest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, length);
}

export function encodeCursor(position: Position, filtersKey: string): string {
  const payload = `${VERSION}.${position.dateMs}.${position.id}.${digest(filtersKey, 12)}`;
  return `${Buffer.from(payload).toString('base64url')}.${digest(payload, 16)}`;
}

/** Returns the position, or null when the cursor is malformed, edited, or from other filters. */
export function decodeCursor(cursor: string, filtersKey: string): Position | null {
  const [encoded, checksum, ...rest] = cursor.split('.');
  if (encoded === undefined || checksum === undefined || rest.length > 0) return null;
  const payload = Buffer.from(encoded, 'base64url').toString('utf8');
  if (digest(payload, 16) !== checksum) return null;
  const [version, dateText, idText, filters] = payload.split('.');
  if (version !== VERSION || filters !== digest(filtersKey, 12)) return null;
  const dateMs = Number(dateText);
  const id = Number(idText);
  if (!Number.isSafeInteger(dateMs) || !Number.isSafeInteger(id) || id < 1) return null;
  return { dateMs, id };
}
