/**
 * Ctrl-C as a request to stop cleanly: the first SIGINT aborts the signal returned (the work stops
 * at its next step, and the command reports what it did, then exits 130); a second one ends the
 * process at once, with exit 130. dispose() gives Ctrl-C back its default meaning.
 */
export function onInterrupt(onFirst?: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    onFirst?.();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}
