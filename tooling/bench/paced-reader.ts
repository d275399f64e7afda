import { createInterface } from 'node:readline';
import { pacedReads } from './harness.js';

/**
 * The reads of harness.ts `pacedReader`, in their own process: the settings (url, paths, rate)
 * come as one JSON line on stdin; it warms up, answers `ready`, reads at `go`, and prints its
 * figure as JSON.
 */
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const { value: settings } = await lines.next();
const { url, paths, rate } = JSON.parse(String(settings)) as { url: string; paths: string[]; rate: number };
// A fresh process's first requests pay for compiling the client's own code: a second of the same
// reads, not counted, so that the measured run times the server and not this process warming up.
await pacedReads(url, paths, { rate, seconds: 1 });
console.log('ready');
await lines.next();
console.log(JSON.stringify(await pacedReads(url, paths, { rate })));
