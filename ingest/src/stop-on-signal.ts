import type { Logger } from 'pino';

/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits: 0 when it finished,
 * 1 when it threw (logged). A second signal while stopping is ignored, so an
 * impatient Ctrl-C cannot cut a final commit in half.
 */
export function stopOnSignal(log: Logger, what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `stopping: ${what}`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
