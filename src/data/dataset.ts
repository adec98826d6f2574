import type { ImageSource } from '../preprocess/index.js';

/** An image with its true class index. */
export interface LabelledInput {
  source: ImageSource;
  name: string;
  label: number;
}

/** A labelled evaluation set, iterated lazily so large sets are not materialised twice. */
export interface LabelledDataset {
  description: string;
  count: number;
  items(): Iterable<LabelledInput>;
}
