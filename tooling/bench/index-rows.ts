import type { GrowthPoint } from './growth.js';
import type { Figure } from './harness.js';
import type { PostgresReference } from './postgres.js';
import type { Row } from './report.js';

/** The rows about the search index that are not rates of the service against a bare server. */

const none: Figure = { rps: 0, p50: 0, p99: 0 };

export function indexSizeRow(index: { bytes: number; rows: number }, reference: PostgresReference): Row {
  return {
    scenario: 'search index size per record',
    service: none,
    baseline: none,
    serviceText: `${Math.round(index.bytes)} B, ${index.rows.toFixed(2)} rows`,
    baselineText: `${Math.round(reference.indexBytesPerRecord)} B`,
    baselineName: 'PostgreSQL pg_trgm GIN',
    ratio: index.bytes / reference.indexBytesPerRecord,
    ratioOf: 'bytes',
    goal: '<= 100 B',
    met: index.bytes <= 100,
  };
}

/** PostgreSQL's own cost of its index on loads; "met" when the service is ahead on loads and within 2x its size. */
export function referenceRow(reference: PostgresReference, service: { loadRatio: number; indexBytes: number }): Row {
  const copyRatio = reference.copyIndexed / reference.copyPlain;
  return {
    scenario: 'reference: PostgreSQL 15 pg_trgm GIN, COPY with the index vs without, contains',
    service: { rps: Math.round(reference.copyIndexed), p50: reference.contains.p50, p99: reference.contains.p99 },
    baseline: { rps: Math.round(reference.copyPlain), p50: 0, p99: 0 },
    serviceText: `COPY ${Math.round(reference.copyIndexed)} rows/s; contains p50 ${reference.contains.p50.toFixed(1)} ms, p99 ${reference.contains.p99.toFixed(1)} ms`,
    baselineText: `${Math.round(reference.copyPlain)} rows/s`,
    baselineName: 'COPY without the index',
    ratio: copyRatio,
    ratioOf: 'rows/s',
    goal: 'reference (the service: ahead on loads, <= 2x its size)',
    met: service.loadRatio > copyRatio && service.indexBytes <= 2 * reference.indexBytesPerRecord,
  };
}

/** `contains` at the largest size grown to, against the main table's size. */
export function largerTableRow(largest: GrowthPoint, main: { records: number; contains: Figure }): Row {
  const millions = (records: number) => `${(records / 1e6).toFixed(1)}M`;
  return {
    scenario: `search contains (5-digit term), uncached, at ${millions(largest.records)} records`,
    service: { rps: 0, p50: largest.containsP50, p99: largest.containsP99 },
    baseline: { rps: 0, p50: main.contains.p50, p99: main.contains.p99 },
    serviceText: `p50 ${largest.containsP50.toFixed(1)} ms, p99 ${largest.containsP99.toFixed(1)} ms`,
    baselineText: `p50 ${main.contains.p50.toFixed(1)} ms, p99 ${main.contains.p99.toFixed(1)} ms`,
    baselineName: `the same at ${millions(main.records)}`,
    ratio: largest.containsP99 / main.contains.p99,
    ratioOf: 'p99 latency',
    goal: 'p99 <= 50 ms',
    met: largest.containsP99 <= 50,
  };
}
