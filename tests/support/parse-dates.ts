import { parseQueryInstant, parseRecordDate } from '../../service/src/api/domain/dates.js';

/**
 * Prints what the date parsers make of each argument, as JSON lines: run in a child process with
 * TZ set, so a test can compare the parsers' answers across process time zones.
 */
for (const input of process.argv.slice(2)) {
  console.log(JSON.stringify({ input, record: parseRecordDate(input), query: parseQueryInstant(input) }));
}
