/**
 * Builds the parameter table of charts/records/README.md from the `## @param` comments in
 * values.yaml (Bitnami's convention) and checks that every value has one.
 *
 * usage: tsx scripts/chart-readme.ts [--check]   (--check fails when README.md is out of date)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const CHART = 'charts/records';
const BEGIN = '<!-- parameters:begin -->';
const END = '<!-- parameters:end -->';

type Param = { name: string; description: string; section: string };

export function readParams(valuesText: string): Param[] {
  const params: Param[] = [];
  let section = '';
  for (const line of valuesText.split('\n')) {
    const sectionMatch = /^## @section (.+)$/.exec(line);
    if (sectionMatch) section = sectionMatch[1] as string;
    const paramMatch = /^\s*## @param (\S+) (.+)$/.exec(line);
    if (paramMatch) params.push({ name: paramMatch[1] as string, description: paramMatch[2] as string, section });
  }
  return params;
}

function get(values: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
}

/** Leaves of values.yaml: scalars, lists, and empty maps (maps with content are described by their leaves). */
export function leaves(values: unknown, prefix = ''): string[] {
  if (values === null || typeof values !== 'object' || Array.isArray(values) || Object.keys(values).length === 0) return [prefix];
  return Object.entries(values).flatMap(([key, value]) => leaves(value, prefix ? `${prefix}.${key}` : key));
}

export function renderTable(valuesText: string): string {
  const values = parse(valuesText) as unknown;
  const rows: string[] = [];
  let section = '';
  for (const param of readParams(valuesText)) {
    if (param.section !== section) {
      section = param.section;
      rows.push('', `### ${section}`, '', '| Name | Description | Default |', '|---|---|---|');
    }
    const value = JSON.stringify(get(values, param.name)) ?? '';
    rows.push(`| \`${param.name}\` | ${param.description.replaceAll('|', '\\|')} | \`${value.replaceAll('|', '\\|')}\` |`);
  }
  return rows.join('\n').trim();
}

function main() {
  const valuesText = readFileSync(`${CHART}/values.yaml`, 'utf8');
  const documented = new Set(readParams(valuesText).map((param) => param.name));
  const missing = leaves(parse(valuesText)).filter((leaf) => !documented.has(leaf));
  const readme = readFileSync(`${CHART}/README.md`, 'utf8');
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${CHART}/README.md lacks the ${BEGIN} / ${END} markers`);
  const updated = `${readme.slice(0, start + BEGIN.length)}\n${renderTable(valuesText)}\n${readme.slice(end)}`;
  if (missing.length > 0) {
    console.error(`values without a ## @param comment: ${missing.join(', ')}`);
    process.exitCode = 1;
  }
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error(`${CHART}/README.md is out of date: run make chart-readme`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(`${CHART}/README.md`, updated);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
