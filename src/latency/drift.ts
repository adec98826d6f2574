/**
 * Case latencies corrected for the machine's drift between interleaved rounds. On a shared
 * machine the speed changes over a run (another job starts, the clock steps), and with a few
 * long rounds a case's plain median depends on which rounds were slow. Each round ran every
 * case within a short stretch of time, so a slow round slows all of them by about the same
 * factor: log(t[round][case]) = overall + round effect + case effect + noise. Tukey's median
 * polish fits that two-way table robustly (medians, so one disturbed cell does not move the
 * effects), and a case's drift-corrected latency is exp(overall + case effect): its time in a
 * typical round of the run.
 */
import { median } from 'simple-statistics';
import type { EffortTiming } from './measure.js';

/** Drift-corrected ms per image of each timing (same order); the plain medians when there is only one round. */
export function driftCorrected(timings: readonly EffortTiming[]): number[] {
  const rounds = Math.min(...timings.map((t) => t.roundMs.length));
  if (!(rounds > 1) || timings.length < 2) return timings.map((t) => t.medianMs);
  const log = timings.map((t) => t.roundMs.slice(0, rounds).map(Math.log));
  const caseEffect = timings.map(() => 0);
  const roundEffect = new Array<number>(rounds).fill(0);
  let overall = 0;
  const residual = (c: number, r: number) => log[c]![r]! - overall - caseEffect[c]! - roundEffect[r]!;
  for (let sweep = 0; sweep < 20; sweep++) {
    let moved = 0;
    for (let c = 0; c < timings.length; c++) {
      const m = median(roundEffect.map((_, r) => residual(c, r)));
      caseEffect[c]! += m;
      moved += Math.abs(m);
    }
    for (let r = 0; r < rounds; r++) {
      const m = median(caseEffect.map((_, c) => residual(c, r)));
      roundEffect[r]! += m;
      moved += Math.abs(m);
    }
    // Keep the round effects centred: the overall level is a typical round.
    const centre = median(roundEffect);
    overall += centre;
    for (let r = 0; r < rounds; r++) roundEffect[r]! -= centre;
    const caseCentre = median(caseEffect);
    overall += caseCentre;
    for (let c = 0; c < timings.length; c++) caseEffect[c]! -= caseCentre;
    if (moved < 1e-9) break;
  }
  return caseEffect.map((e) => Math.exp(overall + e));
}
