import Router from '@koa/router';

/**
 * A router that answers every standard method it does not serve on a path with 405 and Allow.
 * @koa/router's own list leaves out TRACE, CONNECT and QUERY, which it would answer with 501: a server
 * error for a request that is merely not allowed.
 */
export const createRouter = (options: { prefix?: string } = {}) =>
  new Router({ ...options, methods: ['HEAD', 'OPTIONS', 'GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'TRACE', 'CONNECT', 'QUERY'] });
