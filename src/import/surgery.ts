/**
 * Graph surgery on an imported ViT. Every graph made here is a new GraphProto around the
 * original's node and initializer objects (changed nodes are copied), so the weights are
 * never duplicated in memory however many efforts are written.
 *
 * - effortModel: a skipped attention's residual Add is removed (its readers read the
 *   residual input instead), then everything that only fed the branch is pruned.
 * - analysisModel: the Phase 1 variant (the same interface as scripts/export_onnx.py's):
 *   an `attn_gate` input multiplying each attention branch, and the residual-stream taps
 *   MLP_0..MLP_D and A_1..A_D as extra outputs.
 */
import type { EncoderBlock } from './detect.js';
import { pruneDeadNodes } from './graph.js';
import { floatValue, type GraphProto, INT64, type ModelProto, type NodeProto } from './onnx.js';

const withGraph = (model: ModelProto, graph: GraphProto): ModelProto => ({ ...model, graph });

/** Renames tensor reads of every node (nodes that read none of the renamed tensors are shared, not copied). */
function rewire(nodes: readonly NodeProto[], rename: ReadonlyMap<string, string>): NodeProto[] {
  return nodes.map((node) =>
    (node.input ?? []).some((n) => rename.has(n)) ? { ...node, input: node.input!.map((n) => rename.get(n) ?? n) } : node,
  );
}

/** The model with attention i removed wherever active[i] is 0. */
export function effortModel(model: ModelProto, blocks: readonly EncoderBlock[], active: readonly number[]): ModelProto {
  const graph = model.graph!;
  const rename = new Map<string, string>();
  const removed = new Set<NodeProto>();
  blocks.forEach((b, i) => {
    if (active[i]) return;
    rename.set(b.attnOut, b.residual);
    removed.add(b.attnAdd);
  });
  const nodes = rewire(
    (graph.node ?? []).filter((n) => !removed.has(n)),
    rename,
  );
  // A graph output that was a removed Add's output keeps its name through an Identity.
  for (const out of graph.output ?? [])
    if (rename.has(out.name ?? ''))
      nodes.push({ opType: 'Identity', name: `pivot_skip_${out.name}`, input: [rename.get(out.name!)!], output: [out.name!] });
  return withGraph(model, pruneDeadNodes({ ...graph, node: nodes }));
}

/** Adds graph outputs (float tensors of unspecified shape) for existing tensors. */
export function withOutputs(model: ModelProto, names: readonly string[]): ModelProto {
  const graph = model.graph!;
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  return withGraph(model, {
    ...graph,
    output: [...(graph.output ?? []), ...names.filter((n) => !existing.has(n)).map((n) => floatValue(n))],
  });
}

export interface AnalysisNames {
  gateInput: string;
  mlpOutputs: string[];
  attnOutputs: string[];
}

/** A name not used by any tensor of the graph: `base`, else `base_1`, `base_2`, ... */
function freshNamer(graph: GraphProto): (base: string) => string {
  const used = new Set<string>();
  for (const n of graph.node ?? []) for (const t of [...(n.input ?? []), ...(n.output ?? [])]) used.add(t);
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.initializer ?? [])]) used.add(v.name ?? '');
  return (base) => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
}

/** The Phase 1 analysis variant of the model, with the names of its gate input and tap outputs. */
export function analysisModel(model: ModelProto, blocks: readonly EncoderBlock[]): { model: ModelProto; names: AnalysisNames } {
  const graph = model.graph!;
  const fresh = freshNamer(graph);
  const depth = blocks.length;
  const gateInput = fresh('attn_gate');
  const gated = new Map<NodeProto, NodeProto[]>();
  const initializers = [...(graph.initializer ?? [])];
  blocks.forEach((b, i) => {
    const index = fresh(`pivot_gate_index_${i}`);
    const gate = fresh(`pivot_gate_${i}`);
    const branch = fresh(`pivot_gated_attn_${i}`);
    initializers.push({ name: index, dataType: INT64, dims: [], int64Data: [i] });
    gated.set(b.attnAdd, [
      { opType: 'Gather', name: gate, input: [gateInput, index], output: [gate], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Mul', name: branch, input: [b.attnBranch, gate], output: [branch] },
      { ...b.attnAdd, input: b.attnAdd.input!.map((n) => (n === b.attnBranch ? branch : n)) },
    ]);
  });
  const nodes = (graph.node ?? []).flatMap((n) => gated.get(n) ?? [n]);
  const taps = (prefix: string, tensors: string[]) =>
    tensors.map((tensor, k) => {
      const name = fresh(`${prefix}_${prefix === 'mlp' ? k : k + 1}`);
      nodes.push({ opType: 'Identity', name, input: [tensor], output: [name] });
      return name;
    });
  const mlpOutputs = taps('mlp', [blocks[0]!.residual, ...blocks.map((b) => b.mlpOut)]);
  const attnOutputs = taps(
    'attn',
    blocks.map((b) => b.attnOut),
  );
  const analysis: GraphProto = {
    ...graph,
    node: nodes,
    initializer: initializers,
    input: [...(graph.input ?? []), floatValue(gateInput, [depth])],
    output: [...(graph.output ?? []), ...[...mlpOutputs, ...attnOutputs].map((n) => floatValue(n))],
  };
  return { model: withGraph(model, analysis), names: { gateInput, mlpOutputs, attnOutputs } };
}
