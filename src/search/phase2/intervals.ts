/** 95% Clopper-Pearson intervals of an operating point's accuracy and F_L, both proportions of the batch's images. */
import { clopperPearson, type Interval } from '../../stats/index.js';
import type { OperatingPoint } from './sweep.js';

export interface PointIntervals {
  accuracy: Interval;
  fraction_low: Interval;
}

export function pointIntervals(p: OperatingPoint, level = 0.95): PointIntervals {
  return {
    accuracy: clopperPearson(p.correct_low + p.correct_high, p.images, level),
    fraction_low: clopperPearson(p.correct_low + p.incorrect_low, p.images, level),
  };
}

/** [lower, upper] rounded for JSON. */
export const intervalPair = (i: Interval, digits = 6): [number, number] => [
  Number(i.lower.toFixed(digits)),
  Number(i.upper.toFixed(digits)),
];
