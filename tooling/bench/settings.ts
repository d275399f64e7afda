/** make bench's settings, from the environment (tooling/bench.ts documents them). */
export const SETTINGS = {
  records: Number(process.env.BENCH_RECORDS ?? 1_000_000),
  /** Sizes the database grows through for the growth chart (one measurement each). */
  growth: (process.env.BENCH_GROWTH ?? '100000,1000000,5000000').split(',').filter(Boolean).map(Number).sort((a, b) => a - b),
  seconds: Number(process.env.BENCH_SECONDS ?? 5),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 16),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  /** LIKE scans per round: a scan of a million rows takes a second or more. */
  scanSamples: 10,
  /**
   * Indexed searches per measurement, each a distinct term: p99 of 60 (the count before run K) was
   * the slowest search, one scheduling hiccup on two shared cores; of 500 it is the fifth slowest.
   */
  searchSamples: 500,
  mysqlServer: process.env.TEST_MYSQL_URL as string,
  redisUrl: process.env.TEST_REDIS_URL as string,
};
