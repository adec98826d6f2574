/**
 * A read-only index over an ONNX graph (who produces and who reads each tensor, in the
 * graph's topological order) and the dead-node pruning that graph surgery relies on.
 */
import type { GraphProto, NodeProto } from './onnx.js';

/** Tensor names a node reads, including those its subgraphs (If/Loop bodies) read from the outer scope. */
function nodeInputs(node: NodeProto): string[] {
  const names = (node.input ?? []).filter((n) => n !== '');
  for (const attr of node.attribute ?? [])
    for (const g of [attr.g, ...(attr.graphs ?? [])]) if (g) for (const inner of g.node ?? []) names.push(...nodeInputs(inner));
  return names;
}

export class GraphIndex {
  readonly nodes: readonly NodeProto[];
  /** Position of each node in the (topologically sorted) node list. */
  readonly order = new Map<NodeProto, number>();
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers: ReadonlySet<string>;

  constructor(readonly graph: GraphProto) {
    this.nodes = graph.node ?? [];
    this.initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
    this.nodes.forEach((node, i) => {
      this.order.set(node, i);
      for (const out of node.output ?? []) this.producer.set(out, node);
      for (const name of nodeInputs(node)) {
        const list = this.consumers.get(name) ?? [];
        list.push(node);
        this.consumers.set(name, list);
      }
    });
  }

  /** Order of the node producing `tensor`; -1 for graph inputs and initializers. */
  position(tensor: string): number {
    const node = this.producer.get(tensor);
    return node ? this.order.get(node)! : -1;
  }

  /** True when `tensor` is produced by a node (not an initializer or a graph input) that depends on a graph input. */
  isComputed(tensor: string): boolean {
    const node = this.producer.get(tensor);
    if (!node) return !this.initializers.has(tensor);
    return this.dependsOnInput(node);
  }

  private readonly inputDependent = new Map<NodeProto, boolean>();
  private dependsOnInput(node: NodeProto): boolean {
    const known = this.inputDependent.get(node);
    if (known !== undefined) return known;
    this.inputDependent.set(node, false);
    const result = nodeInputs(node).some((name) => {
      const p = this.producer.get(name);
      return p ? this.dependsOnInput(p) : !this.initializers.has(name);
    });
    this.inputDependent.set(node, result);
    return result;
  }

  /**
   * The nodes on a path from `from` to `to`: ancestors of `to`'s producer (inclusive) that
   * read `from`, directly or through other such nodes. Empty when `to` does not depend on `from`.
   */
  between(from: string, to: string): NodeProto[] {
    const floor = this.position(from);
    const end = this.producer.get(to);
    if (!end || this.order.get(end)! <= floor) return [];
    // Ancestors of `to` that come after `from`'s producer (nothing earlier can depend on it).
    const ancestors = new Set<NodeProto>();
    const stack = [end];
    while (stack.length) {
      const node = stack.pop()!;
      if (ancestors.has(node)) continue;
      ancestors.add(node);
      for (const name of nodeInputs(node)) {
        const p = this.producer.get(name);
        if (p && this.order.get(p)! > floor) stack.push(p);
      }
    }
    // Of those, the ones reachable forward from `from`.
    const reached = new Set<NodeProto>();
    const frontier = [from];
    while (frontier.length) {
      const name = frontier.pop()!;
      for (const node of this.consumers.get(name) ?? [])
        if (ancestors.has(node) && !reached.has(node)) {
          reached.add(node);
          frontier.push(...(node.output ?? []));
        }
    }
    return [...reached].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }
}

/**
 * Keeps only what the graph outputs need: nodes whose outputs nobody reads are dropped,
 * repeatedly, then initializers, value_info and initializer-backed inputs nobody reads.
 */
export function pruneDeadNodes(graph: GraphProto): GraphProto {
  const needed = new Set<string>((graph.output ?? []).map((o) => o.name ?? ''));
  const kept: NodeProto[] = [];
  const nodes = graph.node ?? [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!(node.output ?? []).some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const name of nodeInputs(node)) needed.add(name);
  }
  kept.reverse();
  const produced = new Set(kept.flatMap((n) => n.output ?? []));
  const initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name ?? ''));
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return {
    ...graph,
    node: kept,
    initializer,
    // Inputs that are real feeds stay (the model's signature); initializer-backed ones go with their initializer.
    input: (graph.input ?? []).filter((v) => !initializerNames.has(v.name ?? '') || needed.has(v.name ?? '')),
    valueInfo: (graph.valueInfo ?? []).filter((v) => produced.has(v.name ?? '')),
  };
}
