/** make bench's settings, from the environment (scripts/bench.ts documents them). */
export const SETTINGS = {
  records: Number(process.env.BENCH_RECORDS ?? 1_000_000),
  seconds: Number(process.env.BENCH_SECONDS ?? 5),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 16),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  /** LIKE scans per round: a scan of a million rows takes a second or more. */
  scanSamples: 10,
  mysqlServer: process.env.TEST_MYSQL_URL as string,
  redisUrl: process.env.TEST_REDIS_URL as string,
};
