/** Statistics the search and evaluation report with: binomial tails and p-values, intervals, AUROC. */
export { auroc } from './auroc.js';
export { binomialCdf, binomialPValue, calibrationSize, certifiableRate, hoeffdingBentkusPValue, P_VALUES, pValue } from './binomial.js';
export type { PValueMethod } from './binomial.js';
export { clopperPearson, percentWithInterval, wilson } from './interval.js';
export type { Interval } from './interval.js';
