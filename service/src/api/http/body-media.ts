import type { Context } from 'koa';
import { HttpProblem } from './problem.js';

export type BulkMedia = 'application/json' | 'application/x-ndjson';

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^[ \\t]*(${TOKEN})/(${TOKEN})`);
/** `OWS ";" OWS [ name "=" ( token / quoted-string ) ]`, RFC 9110 §5.6.6: empty parameters are allowed. */
const PARAMETER = new RegExp(`^[ \\t]*;[ \\t]*(?:(${TOKEN})=(${TOKEN}|"(?:[^"\\\\\\x00-\\x08\\x0a-\\x1f\\x7f]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*"))?`);

/** A Content-Type's media type (lower case) and its charsets, or null when the header does not read as one. */
export function parseContentType(header: string): { type: string; charsets: string[] } | null {
  const essence = MEDIA_TYPE.exec(header);
  if (!essence) return null;
  const charsets: string[] = [];
  let rest = header.slice(essence[0].length);
  for (let parameter = PARAMETER.exec(rest); parameter; parameter = PARAMETER.exec(rest)) {
    const [whole, name, value] = parameter;
    if (name?.toLowerCase() === 'charset') charsets.push((value ?? '').replace(/^"(.*)"$/s, '$1').replace(/\\(.)/gs, '$1').toLowerCase());
    rest = rest.slice(whole.length);
  }
  if (!/^[ \t]*$/.test(rest)) return null;
  return { type: `${essence[1]}/${essence[2]}`.toLowerCase(), charsets };
}

/**
 * How a bulk body is sent, from its headers alone (a request without a body is read as an empty
 * one): one of `accepted`, in UTF-8, not compressed. Anything else is refused with 415, naming the
 * header, before a byte is read: a charset hidden by odd punctuation, or a gzipped stream, was
 * read as UTF-8 text before.
 */
export function bulkMediaOf(ctx: Context, accepted: readonly BulkMedia[]): BulkMedia {
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new HttpProblem(415, 'unsupported-media-type', 'The body must be sent uncompressed.', [{ parameter: 'Content-Encoding', detail: 'must be absent or identity' }], {
      'Accept-Encoding': 'identity',
    });
  }
  const media = parseContentType(ctx.get('content-type'));
  const type = accepted.find((candidate) => candidate === media?.type);
  if (!media || !type) {
    throw new HttpProblem(415, 'unsupported-media-type', `The body must be sent as Content-Type: ${accepted.join(' or ')}.`, [{ parameter: 'Content-Type', detail: `must be ${accepted.join(' or ')}` }], {
      Accept: accepted.join(', '),
    });
  }
  if (media.charsets.some((charset) => charset !== 'utf-8')) {
    throw new HttpProblem(415, 'unsupported-media-type', 'The body must be encoded as UTF-8.', [{ parameter: 'Content-Type', detail: 'charset must be utf-8' }]);
  }
  return type;
}
