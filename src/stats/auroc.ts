/**
 * Area under the ROC curve of a score for telling positives (here: the low effort is wrong)
 * from negatives: the probability that a random positive scores higher than a random
 * negative, ties counting half (the Mann-Whitney U statistic over n1 x n0).
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const n = scores.length;
  if (positive.length !== n) throw new RangeError(`scores (${n}) and labels (${positive.length}) differ in length`);
  // A NaN score (non-finite logits) always escalates, so it ranks as the most uncertain.
  const score = (i: number) => (Number.isNaN(scores[i]!) ? Infinity : scores[i]!);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score(a) - score(b));
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && score(order[end + 1]!) === score(order[start]!)) end++;
    // Tied scores share the mean of their ranks (1-based).
    const rank = (start + end) / 2 + 1;
    for (let j = start; j <= end; j++)
      if (positive[order[j]!]) {
        positives++;
        rankSum += rank;
      }
    start = end + 1;
  }
  const negatives = n - positives;
  if (!positives || !negatives) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
