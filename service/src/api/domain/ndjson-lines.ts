/** One line of a stream of items: the item as parsed, or why the line could not be read. */
export type IngestLine = { line: number; item: unknown } | { line: number; problem: string };

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);
/** Nothing but whitespace (what trim() removes): a blank line, skipped. */
const BLANK = /^\s*$/;

/**
 * Splits an NDJSON body into lines as its chunks arrive and parses each. Memory holds at most
 * `maxLineBytes` of a line a chunk boundary cuts; most lines lie within one chunk and are read
 * where they are, without a copy. A longer line, or one that is not UTF-8 or JSON, is reported;
 * blank lines are skipped. Plain data in and out, so it runs on a worker thread or inline.
 */
export function createLineSplitter(maxLineBytes: number) {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  let tooLong = false;
  let lineNumber = 0;

  /** Ends the line held in `parts`, followed by `rest` (the part of it in the current chunk). */
  const finishLine = (rest: Uint8Array): IngestLine | null => {
    lineNumber += 1;
    const wasTooLong = tooLong;
    const bytes = parts.length === 0 ? rest : Buffer.concat([...parts, rest], partBytes + rest.length);
    parts = [];
    partBytes = 0;
    tooLong = false;
    if (wasTooLong) return { line: lineNumber, problem: `line is longer than ${maxLineBytes} bytes` };
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { line: lineNumber, problem: 'line is not valid UTF-8' };
    }
    if (BLANK.test(text)) return null;
    try {
      return { line: lineNumber, item: JSON.parse(text) as unknown };
    } catch {
      return { line: lineNumber, problem: 'malformed JSON' };
    }
  };

  return {
    /** The lines `chunk` completes, in order. */
    push(chunk: Uint8Array): IngestLine[] {
      const lines: IngestLine[] = [];
      let start = 0;
      for (;;) {
        const end = chunk.indexOf(NEWLINE, start);
        const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
        if (!tooLong && partBytes + piece.length > maxLineBytes) {
          tooLong = true;
          parts = [];
          partBytes = 0;
        }
        if (end === -1) {
          // The line goes on in the next chunk: keep a copy of its start (not a view that keeps the
          // whole chunk alive; a Buffer's own slice() is a view).
          if (!tooLong && piece.length > 0) {
            parts.push(Uint8Array.prototype.slice.call(piece));
            partBytes += piece.length;
          }
          return lines;
        }
        const line = finishLine(tooLong ? EMPTY : piece);
        if (line) lines.push(line);
        start = end + 1;
      }
    },
    /** The last line, when the body does not end with a newline. */
    end(): IngestLine[] {
      if (partBytes === 0 && !tooLong) return [];
      const line = finishLine(EMPTY);
      return line ? [line] : [];
    },
  };
}
