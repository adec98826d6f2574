/** The search's options and result, shared by run.ts and the modules that format or write the result. */
import type { ModelFamily } from '../../model/index.js';
import type { PValueMethod } from '../../stats/index.js';
import type { SearchBatch } from './batch.js';
import type { CostSource, EffortDelays } from './cost.js';
import type { GuaranteeOutcome, Loss } from './guarantee.js';
import type { ScoreComparison } from './scores.js';
import type { DelayTarget, Lec, Pick, Selection } from './select.js';

export interface SearchOptions {
  model: string;
  /** IDX directory or class-per-folder images; default: Fashion-MNIST if installed, else the model's samples. */
  data?: string;
  /** Default: train, or test with a guarantee (calibration images must be held out from training). */
  split?: 'train' | 'test';
  /** Default: 256, or GUARANTEE_DEFAULT_IMAGES with a guarantee. */
  images?: number;
  seed?: number;
  /** Required without a guarantee; 0 by default with one. `auto`: each pair's F_L is what the delay target needs (not with a guarantee). */
  lec?: Lec;
  delay?: number;
  delayRatio?: number;
  tolerance?: number;
  cost?: CostSource;
  hardware?: string;
  step?: number;
  /** Among pairs meeting the target: the first in pair order (default, as the paper) or the most accurate. */
  pick?: Pick;
  /** deploy.json to write; none when undefined. */
  out?: string;
  threads?: number;
  /** Timed rounds per effort with cost 'device'. */
  rounds?: number;
  /** A guarantee: accuracy drop <= maxDrop with probability >= 1 - delta (Learn-then-Test). */
  maxDrop?: number;
  delta?: number;
  loss?: Loss;
  pValue?: PValueMethod;
  /** Also compare the routing scores on the batch (AUROC, accuracy at the chosen F_L). */
  compareScores?: boolean;
}

export interface SearchResult extends Selection {
  family: ModelFamily;
  batch: SearchBatch;
  lec: Lec;
  step: number;
  pick: Pick;
  delays: EffortDelays;
  target: DelayTarget;
  /** The deploy file written (absolute), when a pair was chosen and `out` given. */
  written?: string;
  /** With --max-drop: the certification of every pair tested. */
  guarantee?: GuaranteeOutcome;
  /** With --compare-scores, for the chosen pair. */
  scoreComparison?: ScoreComparison;
}
