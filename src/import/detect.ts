/**
 * Finds a pre-norm ViT encoder in an ONNX graph from its structure, not its node names:
 * each encoder is two residual Adds on the residual stream, `x + Attn(LN(x))` (the branch
 * holds a Softmax) then `x + MLP(LN(x))` (MatMul/Gemm, no Softmax), and each block's output
 * is the next block's input. A residual Add is an Add with one input computed from the other.
 * Also finds the image input, the classifier output, the patch stem and the pooling.
 */
import { ModelLoadError } from '../errors.js';
import { GraphIndex } from './graph.js';
import { FLOAT, type GraphProto, type ModelProto, type NodeProto, toInt, valueDims } from './onnx.js';

export interface EncoderBlock {
  /** The attention residual Add, its residual input (the block's input, MLP_{i-1}) and its branch input. */
  attnAdd: NodeProto;
  residual: string;
  attnBranch: string;
  /** Output of the attention Add (A_i). */
  attnOut: string;
  /** The MLP residual Add and its output (the block's output, MLP_i). */
  mlpAdd: NodeProto;
  mlpOut: string;
  /** First Softmax of the attention branch (its output's shape gives the head count). */
  softmax: string;
  /** Output of the first MatMul/Gemm of the MLP branch (its last dimension is the hidden width). */
  mlpHidden: string;
}

export interface Detected {
  blocks: EncoderBlock[];
  input: { name: string; dims: (number | string)[] };
  /** The classifier output (logits). */
  output: string;
  /** Patch-embedding convolution (kernel and stride), when the stem is one. */
  stemConv?: { kernel: number; stride: number };
  pooling: 'cls' | 'mean';
}

const MATMUL = new Set(['MatMul', 'Gemm']);
const has = (nodes: readonly NodeProto[], ops: ReadonlySet<string> | string) =>
  nodes.some((n) => (typeof ops === 'string' ? n.opType === ops : ops.has(n.opType ?? '')));

interface ResidualAdd {
  node: NodeProto;
  residual: string;
  branch: string;
  out: string;
  nodes: NodeProto[];
}

/** Every Add whose one input is computed from the other, with the nodes of that branch. */
function residualAdds(index: GraphIndex): ResidualAdd[] {
  const found: ResidualAdd[] = [];
  for (const node of index.nodes) {
    if (node.opType !== 'Add' || (node.input ?? []).length !== 2) continue;
    const [a, b] = node.input as [string, string];
    if (!index.isComputed(a) || !index.isComputed(b)) continue;
    for (const [residual, branch] of [
      [a, b],
      [b, a],
    ] as const) {
      const nodes = index.between(residual, branch);
      if (nodes.length) {
        found.push({ node, residual, branch, out: node.output![0]!, nodes });
        break;
      }
    }
  }
  return found;
}

/** A ReduceMean's axes: the `axes` attribute (opset < 18) or its constant second input (opset 18). */
function reduceAxes(node: NodeProto, graph: GraphProto): number[] {
  const attr = (node.attribute ?? []).find((a) => a.name === 'axes');
  if (attr) return (attr.ints ?? []).map((v) => toInt(v));
  const tensor = (graph.initializer ?? []).find((t) => t.name === node.input?.[1]);
  if (!tensor) return [];
  if (tensor.int64Data?.length) return tensor.int64Data.map((v) => toInt(v));
  const raw = tensor.rawData;
  if (!raw) return [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

export function detectVit(model: ModelProto, file: string): Detected {
  const graph = model.graph!;
  const fail = (reason: string): never => {
    throw new ModelLoadError(`${file}: not a ViT classifier pivot import can use: ${reason}`);
  };
  const index = new GraphIndex(graph);

  const feeds = (graph.input ?? []).filter((v) => !index.initializers.has(v.name ?? ''));
  const images = feeds.filter((v) => valueDims(v)?.length === 4);
  if (images.length === 0)
    fail(
      `no image input (a 4-D NCHW tensor); inputs: ${feeds.map((v) => `${v.name} [${valueDims(v)?.join(',') ?? '?'}]`).join(', ') || 'none'}`,
    );
  if (images.length > 1) fail(`more than one image input (${images.map((v) => v.name).join(', ')}); the runtime feeds one image tensor`);
  const image = images[0]!;
  const others = feeds.filter((v) => v !== image);
  if (others.length) fail(`inputs besides the image (${others.map((v) => v.name).join(', ')}); the runtime feeds only the image`);
  if (image.type?.tensorType?.elemType !== FLOAT) fail(`image input '${image.name}' is not float32`);

  const adds = residualAdds(index);
  const attention = adds.filter((r) => has(r.nodes, 'Softmax') && has(r.nodes, MATMUL));
  const softmaxCount = index.nodes.filter((n) => n.opType === 'Softmax').length;
  if (!attention.length)
    fail(
      `no Softmax branch on a residual Add (found ${adds.length} residual Add(s) and ${softmaxCount} Softmax node(s)); a ViT encoder computes x + Attn(LN(x))`,
    );

  const mlpByResidual = new Map(adds.filter((r) => !has(r.nodes, 'Softmax') && has(r.nodes, MATMUL)).map((r) => [r.residual, r]));
  const blocks: EncoderBlock[] = attention.map((attn, i) => {
    const mlp = mlpByResidual.get(attn.out);
    if (!mlp)
      fail(
        `encoder ${i + 1}: the attention residual Add '${attn.node.name || attn.out}' is not followed by an MLP residual Add (x + MLP(LN(x)))`,
      );
    return {
      attnAdd: attn.node,
      residual: attn.residual,
      attnBranch: attn.branch,
      attnOut: attn.out,
      mlpAdd: mlp!.node,
      mlpOut: mlp!.out,
      softmax: attn.nodes.find((n) => n.opType === 'Softmax')!.output![0]!,
      mlpHidden: mlp!.nodes.find((n) => MATMUL.has(n.opType ?? ''))!.output![0]!,
    };
  });
  blocks.forEach((b, i) => {
    const next = blocks[i + 1];
    if (next && next.residual !== b.mlpOut)
      fail(`encoder ${i + 2}'s input is not encoder ${i + 1}'s output (the residual stream is not a chain of encoder blocks)`);
  });

  const last = blocks.at(-1)!.mlpOut;
  const heads = (graph.output ?? [])
    .map((o) => ({ name: o.name ?? '', dims: valueDims(o), nodes: index.between(last, o.name ?? '') }))
    .filter((o) => has(o.nodes, MATMUL) && (o.dims === undefined || o.dims.length === 2));
  if (!heads.length)
    fail(
      `no classifier head: no 2-D graph output is computed from the last encoder through a MatMul/Gemm (outputs: ${(graph.output ?? []).map((o) => `${o.name} [${valueDims(o)?.join(',') ?? '?'}]`).join(', ')})`,
    );
  const head = heads.find((h) => h.name === 'logits') ?? heads[0]!;

  // Mean pooling averages over tokens; a decomposed LayerNorm's ReduceMean averages over the last (channel) axis.
  const pooling = head.nodes.some((n) => n.opType === 'ReduceMean' && !reduceAxes(n, graph).some((a) => a === -1 || a === 2))
    ? 'mean'
    : 'cls';
  const stem = index.between(image.name!, blocks[0]!.residual).find((n) => n.opType === 'Conv');
  let stemConv: Detected['stemConv'];
  if (stem) {
    const ints = (name: string) => (stem.attribute ?? []).find((a) => a.name === name)?.ints?.map((v) => toInt(v));
    const kernel = ints('kernel_shape')?.[0];
    const stride = ints('strides')?.[0] ?? 1;
    if (kernel) stemConv = { kernel, stride };
  }
  return { blocks, input: { name: image.name!, dims: valueDims(image)! }, output: head.name, stemConv, pooling };
}
