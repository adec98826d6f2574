/**
 * ViT architectures from their own papers (224x224 ImageNet inputs, 1000 classes):
 * DeiT-T/S/B (Touvron et al. 2021, Table 1), ViT-B/16 (Dosovitskiy et al. 2021, Table 1),
 * LV-ViT-S/M (Jiang et al. 2021, "All Tokens Matter", Table 1: 4-layer conv stem, MLP ratio 3,
 * token-labeling head on every patch token).
 */
import type { ConvLayer, VitSpec } from './workload.js';

/** The ViT/DeiT stem: one conv with kernel = stride = patch size. */
export function patchConvStem(image: number, patch: number, channels: number, dim: number): ConvLayer[] {
  return [{ name: 'patch_embed', inH: image, inW: image, inC: channels, kernel: patch, stride: patch, pad: 0, outC: dim }];
}

function plainVit(name: string, dim: number, heads: number, depth: number, mlpRatio: number): VitSpec {
  return {
    name,
    image: 224,
    patch: 16,
    channels: 3,
    tokens: 197, // 14 x 14 patches + class token
    dim,
    depth,
    heads,
    mlpRatio,
    classes: 1000,
    pooling: 'cls',
    stem: patchConvStem(224, 16, 3, dim),
    tokenLabelingHead: false,
  };
}

/** LV-ViT stem: conv 7x7/2 (3->64), two conv 3x3 (64->64), then an 8x8/8 patch projection. */
function lvVitStem(dim: number): ConvLayer[] {
  return [
    { name: 'stem_conv1', inH: 224, inW: 224, inC: 3, kernel: 7, stride: 2, pad: 3, outC: 64 },
    { name: 'stem_conv2', inH: 112, inW: 112, inC: 64, kernel: 3, stride: 1, pad: 1, outC: 64 },
    { name: 'stem_conv3', inH: 112, inW: 112, inC: 64, kernel: 3, stride: 1, pad: 1, outC: 64 },
    { name: 'patch_embed', inH: 112, inW: 112, inC: 64, kernel: 8, stride: 8, pad: 0, outC: dim },
  ];
}

function lvVit(name: string, dim: number, heads: number, depth: number): VitSpec {
  return { ...plainVit(name, dim, heads, depth, 3), stem: lvVitStem(dim), tokenLabelingHead: true };
}

export const VIT_PRESETS: Record<string, VitSpec> = {
  'deit-t': plainVit('deit-t', 192, 3, 12, 4),
  'deit-s': plainVit('deit-s', 384, 6, 12, 4),
  'deit-b': plainVit('deit-b', 768, 12, 12, 4),
  'vit-b16': plainVit('vit-b16', 768, 12, 12, 4),
  'lv-vit-s': lvVit('lv-vit-s', 384, 6, 16),
  'lv-vit-m': lvVit('lv-vit-m', 512, 8, 20),
};
