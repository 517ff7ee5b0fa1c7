/**
 * Ctrl-C for long work that can stop cleanly: the first SIGINT aborts the signal (the work finishes
 * its current step and keeps what it measured), a second one exits at once with 130.
 */
export function interruptOnSigint(onFirst?: () => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    onFirst?.();
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}
