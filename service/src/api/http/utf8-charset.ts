import type { Context } from 'koa';
import { HttpProblem } from './problem.js';

/** Bulk bodies are read as UTF-8: a body declared in another charset is refused, not misread. */
export function requireUtf8Charset(ctx: Context): void {
  const charset = ctx.request.charset;
  if (charset !== '' && charset.toLowerCase() !== 'utf-8') {
    throw new HttpProblem(415, 'unsupported-media-type', 'The body must be encoded as UTF-8.');
  }
}
