export { Preprocessor } from './preprocessor.js';
export { decodeToGrid, sourceName, DEFAULT_PIXEL_LIMIT } from './decode.js';
export type { DecodeOptions, ImageSource, RawImage } from './decode.js';
export { normalizeInto, normalizeTable } from './normalize.js';
export type { NormalizeTable } from './normalize.js';
