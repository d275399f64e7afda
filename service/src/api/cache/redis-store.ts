import { Redis } from 'ioredis';
import { redisUrlWith } from '../../shared/redis-url.js';
import type { Logger } from 'pino';
import type { CacheStore } from './cache-store.js';

/**
 * Redis through ioredis, tuned so a Redis outage costs at most one short timeout: no offline
 * queue (commands fail at once while disconnected), a command timeout, and no retries of a
 * command. The connection itself is retried forever in the background, so the cache comes
 * back without a restart. State changes are logged once each, not per request.
 */
export type RedisStoreEvents = {
  /** Called with true when Redis becomes reachable and false when it stops being so. */
  onAvailability?(up: boolean): void;
  /** Called for every failed command. */
  onError?(): void;
};

export function createRedisStore({
  url,
  password,
  commandTimeoutMs,
  logger,
  events = {},
}: {
  url: string;
  password?: string | null;
  commandTimeoutMs: number;
  logger: Logger;
  events?: RedisStoreEvents;
}): CacheStore {
  const redis = new Redis(redisUrlWith(url, password), {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(commandTimeoutMs * 10, 1000),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    // Off: a read sends one command, so auto-pipelining had nothing to batch and cost a pipeline
    // object and a deferred flush per command, about 30 µs of a cached read's CPU (docs/performance.md).
    enableAutoPipelining: false,
  });
  const listeners: Array<() => void> = [];
  let up: boolean | null = null;
  // After a timeout the connection may still say "ready"; skip Redis briefly rather than pay the timeout on every request.
  let skipUntil = 0;

  const markUp = () => {
    skipUntil = 0;
    if (up !== true) {
      logger.info({ cache: 'redis' }, 'cache available');
      events.onAvailability?.(true);
    }
    up = true;
    for (const listener of listeners) listener();
  };
  const markDown = (reason: string) => {
    if (up !== false) {
      logger.warn({ cache: 'redis', reason }, 'cache unavailable; serving from the database');
      events.onAvailability?.(false);
    }
    up = false;
  };
  redis.on('ready', markUp);
  redis.on('close', () => markDown('connection closed'));
  redis.on('error', (error: Error) => markDown(error.message));

  async function guard<T>(work: Promise<T>): Promise<T> {
    try {
      const result = await work;
      if (up !== true && redis.status === 'ready') markUp();
      return result;
    } catch (error) {
      events.onError?.();
      skipUntil = Date.now() + 1000;
      markDown((error as Error).message);
      throw error;
    }
  }

  return {
    kind: 'redis',
    isAvailable: () => redis.status === 'ready' && Date.now() >= skipUntil,
    getMany: (keys) => guard(redis.mget(...keys)),
    set: (key, value, ttlSeconds) => guard(redis.set(key, value, 'EX', ttlSeconds).then(() => undefined)),
    initialize: (key, value) =>
      guard(
        redis
          .multi()
          .set(key, value, 'NX')
          .get(key)
          .exec()
          .then((replies) => String(replies?.[1]?.[1] ?? value)),
      ),
    increment: (key, floor) =>
      guard(
        redis
          .multi()
          .set(key, String(floor), 'NX')
          .incr(key)
          .exec()
          .then((replies) => Number(replies?.[1]?.[1])),
      ),
    onAvailable: (listener) => listeners.push(listener),
    async close() {
      redis.removeAllListeners('close');
      // QUIT waits for Redis to answer; when it is not connected there is nobody to answer.
      if (redis.status !== 'ready') {
        redis.disconnect();
        return;
      }
      await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1000))]).catch(() => undefined);
      redis.disconnect();
    },
  };
}
