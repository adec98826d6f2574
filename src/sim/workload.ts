/**
 * ViT -> operation list. Linear layers become GEMMs for the systolic array (PL); the
 * non-linear and element-wise operations run on the host CPU (PS). A skipped attention
 * removes its whole branch: LayerNorm 1, QKV, QK^T, softmax, SMxV, projection and the
 * residual add that merges it (the MLP of that encoder still runs).
 */
import { ConfigError } from '../errors.js';
import type { Gemm } from './dataflow/index.js';

export interface ConvLayer {
  name: string;
  inH: number;
  inW: number;
  inC: number;
  kernel: number;
  stride: number;
  pad: number;
  outC: number;
}

export interface VitSpec {
  name: string;
  image: number;
  patch: number;
  channels: number;
  /** Sequence length through the encoders (patches + class/distillation tokens). */
  tokens: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  classes: number;
  pooling: 'cls' | 'mean';
  stem: ConvLayer[];
  /** LV-ViT's auxiliary head applied to every patch token at inference. */
  tokenLabelingHead: boolean;
}

/** Fig. 6a's modules plus everything else. */
export type Module = 'attention_mac' | 'softmax' | 'mlp' | 'other';
export const MODULES: readonly Module[] = ['attention_mac', 'softmax', 'mlp', 'other'];

export type GemmKind = 'stem' | 'qkv' | 'qk' | 'smv' | 'proj' | 'fc1' | 'fc2' | 'head';
export type HostKind = 'softmax' | 'gelu' | 'layernorm' | 'add' | 'entropy';

interface OpBase {
  name: string;
  module: Module;
  /** 1-based encoder index, absent for stem/head/entropy. */
  encoder?: number;
}
export interface GemmOp extends OpBase {
  unit: 'pl';
  kind: GemmKind;
  gemm: Gemm;
  /** Identical GEMMs run back to back (one per attention head). */
  repeat: number;
}
export interface HostOp extends OpBase {
  unit: 'host';
  kind: HostKind;
  elements: number;
}
export type Op = GemmOp | HostOp;

export interface WorkloadOptions {
  /** Add Eq. 3's entropy on the logits (the low-effort pass of a cascade). */
  entropy?: boolean;
}

/** GEMM of a convolution (im2col): output pixels x window, times window x filters. */
export function convGemm(c: ConvLayer): Gemm {
  const out = (size: number) => Math.floor((size + 2 * c.pad - c.kernel) / c.stride) + 1;
  return { m: out(c.inH) * out(c.inW), k: c.kernel * c.kernel * c.inC, n: c.outC };
}

export function checkVit(v: VitSpec, source: string): void {
  const fail = (field: string, reason: string): never => {
    throw new ConfigError(`${source}: ${field}: ${reason}`);
  };
  for (const key of ['tokens', 'dim', 'depth', 'heads', 'classes'] as const)
    if (!Number.isInteger(v[key]) || v[key] <= 0) fail(key, `must be a positive integer, got ${v[key]}`);
  if (v.dim % v.heads !== 0) fail('heads', `${v.heads} heads do not divide dim ${v.dim}`);
  if (!(v.mlpRatio > 0) || !Number.isInteger(v.dim * v.mlpRatio))
    fail('mlp_ratio', `dim x mlp_ratio must be a positive integer, got ${v.dim * v.mlpRatio}`);
}

/** Parses "111100001111", "1,1,0,..." or "[1,1,0]" into a mask of `depth` bits. */
export function parseMask(text: string, depth: number, source = '--active'): number[] {
  const bits = text.replace(/[[\]\s]/g, '').split(text.includes(',') ? ',' : '');
  if (bits.length !== depth || bits.some((b) => b !== '0' && b !== '1'))
    throw new ConfigError(`${source}: expected ${depth} bits of 0/1 (one per encoder), got ${JSON.stringify(text)}`);
  return bits.map(Number);
}

/** The paper's Fig. 9 finding: attention is skipped in the deepest encoders first. */
export function deepestSkippedMask(depth: number, effort: number): number[] {
  if (!Number.isInteger(effort) || effort < 0 || effort > depth)
    throw new ConfigError(`--effort: must be an integer in 0..${depth}, got ${effort}`);
  return Array.from({ length: depth }, (_, i) => (i < effort ? 1 : 0));
}

export function buildWorkload(v: VitSpec, active: readonly number[], options: WorkloadOptions = {}): Op[] {
  if (active.length !== v.depth) throw new ConfigError(`active mask has ${active.length} bits but ${v.name} has depth ${v.depth}`);
  const t = v.tokens;
  const d = v.dim;
  const dh = d / v.heads;
  const hidden = Math.round(d * v.mlpRatio);
  const ops: Op[] = v.stem.map((c) => ({ unit: 'pl', name: c.name, kind: 'stem', module: 'other', gemm: convGemm(c), repeat: 1 }));
  const gemm = (encoder: number, kind: GemmKind, module: Module, m: number, k: number, n: number, repeat = 1): GemmOp => ({
    unit: 'pl',
    name: `enc${encoder}.${kind}`,
    kind,
    module,
    encoder,
    gemm: { m, k, n },
    repeat,
  });
  const host = (encoder: number, name: string, kind: HostKind, module: Module, elements: number): HostOp => ({
    unit: 'host',
    name: `enc${encoder}.${name}`,
    kind,
    module,
    encoder,
    elements,
  });
  active.forEach((on, i) => {
    const e = i + 1;
    if (on) {
      ops.push(
        host(e, 'norm1', 'layernorm', 'other', t * d),
        gemm(e, 'qkv', 'attention_mac', t, d, 3 * d),
        gemm(e, 'qk', 'attention_mac', t, dh, t, v.heads),
        host(e, 'softmax', 'softmax', 'softmax', v.heads * t * t),
        gemm(e, 'smv', 'attention_mac', t, t, dh, v.heads),
        gemm(e, 'proj', 'attention_mac', t, d, d),
        host(e, 'add1', 'add', 'other', t * d),
      );
    }
    ops.push(
      host(e, 'norm2', 'layernorm', 'other', t * d),
      gemm(e, 'fc1', 'mlp', t, d, hidden),
      host(e, 'gelu', 'gelu', 'mlp', t * hidden),
      gemm(e, 'fc2', 'mlp', t, hidden, d),
      host(e, 'add2', 'add', 'other', t * d),
    );
  });
  ops.push({ unit: 'host', name: 'norm', kind: 'layernorm', module: 'other', elements: t * d });
  if (v.pooling === 'mean') ops.push({ unit: 'host', name: 'pool', kind: 'add', module: 'other', elements: t * d });
  ops.push({ unit: 'pl', name: 'head', kind: 'head', module: 'other', gemm: { m: 1, k: d, n: v.classes }, repeat: 1 });
  if (v.tokenLabelingHead)
    ops.push({ unit: 'pl', name: 'aux_head', kind: 'head', module: 'other', gemm: { m: t - 1, k: d, n: v.classes }, repeat: 1 });
  if (options.entropy) ops.push({ unit: 'host', name: 'entropy', kind: 'entropy', module: 'other', elements: v.classes });
  return ops;
}
