import type { LoadSummary } from './summary.js';

/** How `records load` shows its progress: a redrawn bar on a terminal, plain lines otherwise. */
export type Progress = {
  update(summary: LoadSummary): void;
  /** A message that must not be lost under the bar (a retry). */
  note(message: string): void;
  done(summary: LoadSummary): void;
};

type Output = { write(text: string): unknown; isTTY?: boolean; columns?: number };

const formatRate = (perSecond: number) => (perSecond >= 1000 ? `${(perSecond / 1000).toFixed(1)}k` : perSecond.toFixed(0));
const formatDuration = (seconds: number) => {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

export function createProgress({ output, total, intervalMs = 5000, now = Date.now }: { output: Output; total: number | null; intervalMs?: number; now?: () => number }): Progress {
  const started = now();
  let lastLine = Number.NEGATIVE_INFINITY; // the first update prints at once
  const describe = ({ records, skipped, stored, rejected }: LoadSummary) => {
    const seconds = (now() - started) / 1000;
    // Records an earlier run had sent are read again, not sent: they would make the rate a lie.
    const rate = seconds > 0 ? (records - skipped) / seconds : 0;
    const eta = total !== null && rate > 0 ? formatDuration((total - records) / rate) : '?';
    const of = total !== null ? `/${total}` : '';
    const earlier = skipped > 0 ? ` (${skipped} by an earlier run)` : '';
    return { text: `sent ${records}${of} records${earlier}, stored ${stored}, rejected ${rejected}, ${formatRate(rate)} records/s, ETA ${eta}`, fraction: total ? records / total : null };
  };

  if (output.isTTY) {
    const draw = (summary: LoadSummary) => {
      const { text, fraction } = describe(summary);
      const width = 24;
      const filled = fraction === null ? 0 : Math.round(Math.min(1, fraction) * width);
      const bar = fraction === null ? '' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(Math.min(1, fraction) * 100).toFixed(0).padStart(3)}% `;
      output.write(`\r\x1b[2K${bar}${text}`.slice(0, (output.columns ?? 120) + 8));
    };
    return {
      update: draw,
      note: (message) => output.write(`\r\x1b[2K${message}\n`),
      done: (summary) => {
        draw(summary);
        output.write('\n');
      },
    };
  }
  return {
    update(summary) {
      if (now() - lastLine < intervalMs) return;
      lastLine = now();
      output.write(`${describe(summary).text}\n`);
    },
    note: (message) => output.write(`${message}\n`),
    done: (summary) => output.write(`${describe(summary).text}\n`),
  };
}
