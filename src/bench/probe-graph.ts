/**
 * A synthetic ViT as an ONNX graph, built in memory with seeded random weights: the probes of
 * the fit's calibration ladder (ladder.ts). The graph has the structure of a PyTorch/timm
 * export (opset 17: patch Conv, LayerNormalization, fused QKV MatMul + bias, per-head
 * Reshape/Transpose/Gather, QK^T, scale, Softmax, SMxV, projection, Erf GeLU, residual Adds,
 * mean pooling, Gemm head), so onnxruntime fuses and dispatches it as it does an imported
 * model, and its operations are exactly PIVOT-Sim's list for the same VitSpec
 * (buildWorkload): a skipped attention is left out whole, as effortModel does.
 */
import { FLOAT, floatValue, INT64, type ModelProto, type NodeProto } from '../import/onnx.js';
import { seededRandom, type Random } from '../search/phase1/rng.js';
import type { VitSpec } from '../sim/workload.js';

export const PROBE_INPUT = 'pixel_values';
export const PROBE_OUTPUT = 'logits';

type Attribute = { name: string; type: number; i?: number; ints?: number[] };
/** AttributeProto.AttributeType values used here. */
const INT_ATTR = 2;
const INTS_ATTR = 7;

/** Accumulates nodes and initializers; every tensor gets a fresh name. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: NonNullable<NonNullable<ModelProto['graph']>['initializer']> = [];
  private count = 0;

  constructor(private readonly random: Random) {}

  private fresh(base: string): string {
    return `${base}_${this.count++}`;
  }

  /** A float tensor of uniform random values in [-scale, scale] (or all `fill`). */
  weight(dims: number[], scale: number, fill?: number): string {
    const name = this.fresh('w');
    const size = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = fill ?? (2 * this.random() - 1) * scale;
    this.initializers.push({ name, dataType: FLOAT, dims, rawData: new Uint8Array(values.buffer) });
    return name;
  }

  scalar(value: number): string {
    const name = this.fresh('c');
    this.initializers.push({ name, dataType: FLOAT, dims: [], floatData: [value] });
    return name;
  }

  ints(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('i');
    this.initializers.push({ name, dataType: INT64, dims, int64Data: values });
    return name;
  }

  node(opType: string, inputs: string[], attribute: Attribute[] = [], output = this.fresh(opType.toLowerCase())): string {
    this.nodes.push({ opType, name: output, input: inputs, output: [output], attribute });
    return output;
  }

  /** x [.., k] times a [k, n] weight plus a bias (MatMul + Add, as exported). */
  linear(x: string, k: number, n: number): string {
    const product = this.node('MatMul', [x, this.weight([k, n], 1 / Math.sqrt(k))]);
    return this.node('Add', [product, this.weight([n], 0.02)]);
  }

  layerNorm(x: string, d: number): string {
    return this.node('LayerNormalization', [x, this.weight([d], 0, 1), this.weight([d], 0, 0)], [{ name: 'axis', type: INT_ATTR, i: -1 }]);
  }
}

const perm = (values: number[]): Attribute => ({ name: 'perm', type: INTS_ATTR, ints: values });

/** The probe's graph for one active mask (encoder 1 first); the same `seed` gives the same weights. */
export function probeModel(vit: VitSpec, active: readonly number[], seed: number): ModelProto {
  const g = new GraphBuilder(seededRandom(seed));
  const { image, patch, channels: c, dim: d, heads: h, tokens: t } = vit;
  const dh = d / h;
  const hidden = Math.round(d * vit.mlpRatio);
  // Patch embedding: Conv with kernel = stride = patch, then [B, D, T] -> [B, T, D], plus positions.
  const conv = g.node(
    'Conv',
    [PROBE_INPUT, g.weight([d, c, patch, patch], 1 / Math.sqrt(c * patch * patch)), g.weight([d], 0.02)],
    [
      { name: 'kernel_shape', type: INTS_ATTR, ints: [patch, patch] },
      { name: 'strides', type: INTS_ATTR, ints: [patch, patch] },
    ],
  );
  const flat = g.node('Reshape', [conv, g.ints([0, d, -1])]);
  let x = g.node('Add', [g.node('Transpose', [flat], [perm([0, 2, 1])]), g.weight([t, d], 0.02)]);
  active.forEach((on) => {
    if (on) {
      const qkv = g.linear(g.layerNorm(x, d), d, 3 * d);
      // [B, T, 3D] -> [3, B, H, T, dh]: q, k and v per head.
      const split = g.node('Transpose', [g.node('Reshape', [qkv, g.ints([0, t, 3, h, dh])])], [perm([2, 0, 3, 1, 4])]);
      const [q, k, v] = [0, 1, 2].map((i) => g.node('Gather', [split, g.ints([i], [])], [{ name: 'axis', type: INT_ATTR, i: 0 }]));
      const scores = g.node('Mul', [g.node('MatMul', [q!, g.node('Transpose', [k!], [perm([0, 1, 3, 2])])]), g.scalar(1 / Math.sqrt(dh))]);
      const probs = g.node('Softmax', [scores], [{ name: 'axis', type: INT_ATTR, i: -1 }]);
      const heads = g.node('Transpose', [g.node('MatMul', [probs, v!])], [perm([0, 2, 1, 3])]);
      x = g.node('Add', [x, g.linear(g.node('Reshape', [heads, g.ints([0, t, d])]), d, d)]);
    }
    const fc1 = g.linear(g.layerNorm(x, d), d, hidden);
    // GeLU as exported: x * 0.5 * (1 + erf(x / sqrt 2)).
    const erf = g.node('Erf', [g.node('Div', [fc1, g.scalar(Math.SQRT2)])]);
    const gelu = g.node('Mul', [g.node('Mul', [fc1, g.node('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
    x = g.node('Add', [x, g.linear(gelu, hidden, d)]);
  });
  const pooled = g.node(
    'ReduceMean',
    [g.layerNorm(x, d)],
    [
      { name: 'axes', type: INTS_ATTR, ints: [1] },
      { name: 'keepdims', type: INT_ATTR, i: 0 },
    ],
  );
  g.node('Gemm', [pooled, g.weight([d, vit.classes], 1 / Math.sqrt(d)), g.weight([vit.classes], 0.02)], [], PROBE_OUTPUT);
  return {
    irVersion: 8,
    producerName: 'pivot-edge',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: vit.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [floatValue(PROBE_INPUT, ['batch', c, image, image])],
      output: [floatValue(PROBE_OUTPUT, ['batch', vit.classes])],
    },
  };
}
