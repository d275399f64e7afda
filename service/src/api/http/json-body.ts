import type { Context } from 'koa';
import { InvalidInput } from '../domain/errors.js';
import { bodyChunks } from './body-chunks.js';
import { HttpProblem } from './problem.js';
import { requireUtf8Charset } from './utf8-charset.js';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function tooLarge(limit: number): HttpProblem {
  // The rest of an oversized body is not worth reading: the connection closes with the answer.
  return new HttpProblem(413, 'body-too-large', `The body is larger than the limit of ${limit} bytes.`, [], { Connection: 'close' });
}

/**
 * Reads and parses a JSON request body: only `application/json` in UTF-8, at most `limit`
 * bytes (checked against Content-Length before reading, and while reading), arriving at
 * `minBytesPerSecond` at least.
 */
export async function readJsonBody(ctx: Context, limit: number, minBytesPerSecond: number): Promise<{ body: unknown; raw: Buffer }> {
  if (!ctx.request.is('application/json')) {
    throw new HttpProblem(415, 'unsupported-media-type', 'The body must be sent as Content-Type: application/json or application/x-ndjson.', [], {
      Accept: 'application/json, application/x-ndjson',
    });
  }
  requireUtf8Charset(ctx);
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of bodyChunks(ctx.req, minBytesPerSecond)) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks, size);
  let text: string;
  try {
    text = STRICT_UTF8.decode(raw);
  } catch {
    throw new InvalidInput('The body is not valid UTF-8.', [{ pointer: '#', detail: 'invalid UTF-8' }]);
  }
  try {
    return { body: JSON.parse(text) as unknown, raw };
  } catch {
    throw new InvalidInput('The body is not valid JSON.', [{ pointer: '#', detail: 'malformed JSON' }]);
  }
}
