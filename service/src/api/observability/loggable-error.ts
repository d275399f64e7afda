import { statementShape } from './statement-shape.js';

const STATEMENT = /^\s*(insert|select|update|delete|replace|with)\b/i;
/** knex prefixes a driver's message with the statement: "<statement> - <driver message>". */
const SEPARATOR = ' - ';

/**
 * An error as a log line may hold it. A database driver's error carries the failed statement,
 * values included, in its message, stack and `sql`: a failed bulk load's titles and URIs, up to
 * hundreds of KB. Records are not for the logs (nor for traces: tracing-sdk.ts), so the statement
 * is reduced to its shape; the driver's reason and codes stay.
 */
export function loggableError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { sql, code, errno, sqlState, sqlMessage } = error as Error & Record<string, unknown>;
  let message = error.message;
  if (STATEMENT.test(message)) {
    const cut = message.lastIndexOf(SEPARATOR);
    message = cut === -1 ? statementShape(message) : `${statementShape(message.slice(0, cut))}${SEPARATOR}${message.slice(cut + SEPARATOR.length)}`;
  }
  const stack = error.stack?.replace(error.message, message);
  return {
    type: error.name,
    message,
    stack,
    ...(typeof sql === 'string' ? { sql: statementShape(sql) } : {}),
    ...Object.fromEntries(Object.entries({ code, errno, sqlState, sqlMessage }).filter(([, value]) => value !== undefined)),
  };
}
