/**
 * Progress for long runs: a bar on a terminal, plain lines otherwise (CI logs), both on stderr
 * so a report on stdout stays clean.
 */
import cliProgress from 'cli-progress';

/** A progress display of `total` steps. */
export interface Progress {
  /** Says what is running now, within the current step. */
  update(step: string): void;
  /** Marks one step done. */
  increment(): void;
  /** Ends the display. */
  stop(): void;
}

/**
 * A progress display titled `label`. On a TTY it is a cli-progress bar; elsewhere every
 * `update` prints one line `label [done/total] step`, so a slow run is never silent.
 */
export function createProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) {
    let done = 0;
    return {
      update: (step) => stream.write(`${label} [${done}/${total}] ${step}\n`),
      increment: () => void done++,
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} {bar} {value}/{total} {step}`, hideCursor: true, clearOnComplete: true, stream },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { step: '' });
  return {
    update: (step) => bar.update({ step }),
    increment: () => bar.increment(),
    stop: () => bar.stop(),
  };
}
