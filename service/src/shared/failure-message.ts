/** Errors JavaScript throws for a mistake in the program itself, where a stack is what helps. */
const BUGS = [TypeError, ReferenceError, RangeError];

/**
 * What `records` prints when a command fails: the error's message, then each cause's. A stack only
 * for a bug in the program: an operational failure (an API server's refusal, a missing file, a port
 * in use) is read by an operator in a Job's or a container's log, where a stack hides the message.
 */
export function failureMessage(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  // Causes may form a cycle; a few levels say everything anyone reads.
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    const bug = current instanceof Error && BUGS.some((kind) => current instanceof kind) && current.stack;
    // A stack starts with the error's name and message.
    const message = bug || (current instanceof Error ? current.message || current.name : String(current));
    lines.push(depth === 0 ? message : `caused by: ${message}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n');
}
