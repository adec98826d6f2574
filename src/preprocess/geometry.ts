/**
 * Resize-then-center-crop geometry, computed here rather than left to sharp's `cover` so the
 * pixel grid is exactly torchvision's (Resize(n) truncates the long side, CenterCrop rounds the
 * offset half to even, as Python's round does). With the same grid, only the resampling filter
 * differs from the exporter's transform.
 */
import type { Preprocess } from '../model/manifest.js';

/** Resize the (oriented) source to resizeWidth x resizeHeight, then extract the grid at left, top. */
export interface CropPlan {
  resizeWidth: number;
  resizeHeight: number;
  left: number;
  top: number;
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The size after scaling the source's shorter side to `short` (torchvision Resize(int)). */
function shorterSideTo(short: number, srcWidth: number, srcHeight: number): [number, number] {
  return srcWidth <= srcHeight ? [short, Math.floor((short * srcHeight) / srcWidth)] : [Math.floor((short * srcWidth) / srcHeight), short];
}

/** The crop plan for fit = cover (with or without `crop_from`) of a srcWidth x srcHeight image. */
export function coverPlan(resize: Preprocess['resize'], srcWidth: number, srcHeight: number): CropPlan {
  const { width, height, crop_from: from } = resize;
  let size: [number, number];
  if (from && 'width' in from) size = [from.width, from.height];
  else if (from) size = shorterSideTo(from.shortest_edge, srcWidth, srcHeight);
  else if (width === height) size = shorterSideTo(width, srcWidth, srcHeight);
  else if (width / srcWidth >= height / srcHeight) size = [width, Math.max(height, Math.floor((width * srcHeight) / srcWidth))];
  else size = [Math.max(width, Math.floor((height * srcWidth) / srcHeight)), height];
  // A side that came out short (extreme aspect ratios) is stretched to the grid rather than padded.
  const [resizeWidth, resizeHeight] = [Math.max(size[0], width), Math.max(size[1], height)];
  return {
    resizeWidth,
    resizeHeight,
    left: roundHalfEven((resizeWidth - width) / 2),
    top: roundHalfEven((resizeHeight - height) / 2),
  };
}
