import { ConfigError } from '../../errors.js';
import type { SearchResult } from './types.js';

/** No pair meets the delay target: a setting the model family cannot satisfy. Carries what was tried. */
export class DelayTargetError extends ConfigError {
  constructor(
    message: string,
    readonly result: SearchResult,
  ) {
    super(message);
  }
}
