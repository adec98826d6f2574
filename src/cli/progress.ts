/**
 * Progress of a long-running command on stderr: a bar on a terminal; elsewhere (a log, CI, a
 * pipe) one line per tenth done, so a run of many minutes is never silent.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** `what` names the work ("timing"); `unit` what is counted ("turns"). */
export function progress(what: string, unit: string): Progress {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      stream: process.stderr,
      format: `${what} [{bar}] {value}/{total} ${unit} | {eta}s left`,
      hideCursor: true,
    });
    let started = false;
    return {
      update(done, total) {
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let tenths = 0;
  return {
    update(done, total) {
      const now = Math.floor((done * 10) / total);
      if (now <= tenths) return;
      tenths = now;
      process.stderr.write(`${what}: ${done} of ${total} ${unit} (${now * 10}%)\n`);
    },
    stop() {},
  };
}
