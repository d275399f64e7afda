/**
 * Writes N deterministic records in the messy formats real input has: mixed date formats,
 * accented titles, null and empty fields, and a few invalid dates.
 *
 * usage: tsx tooling/generate-records.ts [--count N] [--seed S] [--format json|ndjson] [--invalid-every K]
 * The same arguments always print the same bytes; samples/records.json is made with the defaults (seed 2: the README query finds three records).
 */
import { parseArgs } from 'node:util';

const WORDS = [
  'le', 'confort', 'de', 'la', 'maison', 'tranquilité', 'du', 'soir', 'été', 'hiver', 'café', 'crème',
  'river', 'mountain', 'garden', 'letters', 'archive', 'naïve', 'élan', 'façade', 'über', 'straße',
  'noël', 'déjà', 'vu', 'résumé', 'night', 'city', 'sea', 'light', 'école', 'forêt', 'château', 'œuvre',
];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const INVALID_DATES = ['May 23', '2021-02-30', '01/02/2003', '2019-06-31T25:00', 'sometime in 1999', ''];

/** mulberry32: a tiny seeded PRNG, so output is reproducible without a dependency. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

export function* generateRecords(count: number, seed: number, invalidEvery: number) {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  for (let i = 0; i < count; i += 1) {
    const year = 1980 + Math.floor(next() * 45);
    const month = 1 + Math.floor(next() * 12);
    const day = 1 + Math.floor(next() * 28);
    const hour = Math.floor(next() * 24);
    const minute = Math.floor(next() * 60);
    const second = Math.floor(next() * 60);
    const monthName = MONTHS[month - 1] as string;
    const formats = [
      `${year}-${pad(month)}-${pad(day)}T${pad(hour)}`,
      `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}`,
      `${monthName} ${pad(day)} ${year}`,
      `${monthName} ${day} ${year}`,
      `${pad(day)} ${monthName.slice(0, 3)} ${year}`,
      `${day} ${monthName.slice(0, 3)} ${year}`,
      `${year}-${pad(month)}-${pad(day)}`,
      `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}Z`,
    ];
    const date = invalidEvery > 0 && i % invalidEvery === invalidEvery - 1 ? pick(INVALID_DATES) : pick(formats);
    const length = 2 + Math.floor(next() * 5);
    const words = Array.from({ length }, () => pick(WORDS));
    const roll = next();
    // One title in five carries a catalogue number: rare terms for selective searches.
    const catalogue = next() < 0.2 ? ` (no. ${10000 + Math.floor(next() * 90000)})` : '';
    const title = roll < 0.04 ? null : roll < 0.06 ? '' : words.join(' ').replace(/^./, (c) => c.toUpperCase()) + catalogue;
    const uriRoll = next();
    const uri = uriRoll < 0.08 ? null : uriRoll < 0.1 ? '' : `https://example.org/${words[0]}/${i + 1}?ref=${words.at(-1)}`;
    yield { title, uri, date };
  }
}

function main() {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '100' },
      seed: { type: 'string', default: '2' },
      format: { type: 'string', default: 'json' },
      'invalid-every': { type: 'string', default: '20' },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  const invalidEvery = Number(values['invalid-every']);
  if (!Number.isSafeInteger(count) || count < 0 || !Number.isSafeInteger(seed) || !Number.isSafeInteger(invalidEvery)) {
    console.error('usage: generate-records [--count N] [--seed S] [--format json|ndjson] [--invalid-every K]');
    process.exit(2);
  }
  const records = generateRecords(count, seed, invalidEvery);
  if (values.format === 'ndjson') {
    for (const record of records) process.stdout.write(`${JSON.stringify(record)}\n`);
  } else if (values.format === 'json') {
    // One item per line keeps the sample file readable and diffable.
    const lines = [...records].map((record) => `  ${JSON.stringify(record)}`);
    process.stdout.write(`{"items": [\n${lines.join(',\n')}\n]}\n`);
  } else {
    console.error(`unknown format ${values.format}; use json or ndjson`);
    process.exit(2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
