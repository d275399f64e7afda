/**
 * A background pass run every `intervalMs` and on demand, one at a time (a call while one runs is
 * dropped), never keeping the process alive. `pass` handles its own errors.
 */
export function createPeriodicPass({ pass, intervalMs }: { pass: () => Promise<void>; intervalMs: number }) {
  let running: Promise<void> | null = null;
  const runNow = (): void => {
    running ??= pass().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(runNow, intervalMs);
  timer.unref();
  return {
    runNow,
    /** Stops the timer and waits for a running pass. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
