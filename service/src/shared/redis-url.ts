/**
 * A Redis URL carrying `password`. ioredis takes the user and password from the URL, and the empty
 * password of a URL naming an ACL user (redis://records@host) overrides its `password` option, so
 * the login would fail: the password goes into the URL instead (kept out of logs by the callers).
 */
export function redisUrlWith(url: string, password: string | null | undefined): string {
  if (!password) return url;
  const parsed = new URL(url);
  // ioredis decodes the URL's password: a `%` in it must reach it encoded.
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
