/**
 * Reading and writing ONNX models with onnx-proto (protobufjs). Decoding a Node Buffer
 * keeps every tensor's raw_data as a view into the file's buffer, so graphs rebuilt from
 * a decoded model share the weights instead of copying them.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';
import { ModelLoadError } from '../errors.js';
import { readFailure } from '../util/files.js';
import writeFileAtomic from 'write-file-atomic';

export const { onnx } = onnxProto;
export type ModelProto = O.IModelProto;
export type GraphProto = O.IGraphProto;
export type NodeProto = O.INodeProto;
type TensorProto = O.ITensorProto;
export type ValueInfoProto = O.IValueInfoProto;

/** TensorProto.DataType values used here. */
export const FLOAT = 1;
export const INT64 = 7;

/** int64 fields decode as Long objects (protobufjs with the `long` package) or numbers. */
export function toInt(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Reads and decodes an ONNX model; a missing, truncated or non-ONNX file is a ModelLoadError naming it. */
export function readOnnx(path: string): { model: ModelProto; bytes: number } {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (err) {
    throw new ModelLoadError(`${path}: ${readFailure(err)}`, { cause: err });
  }
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(buffer);
  } catch (err) {
    throw new ModelLoadError(`${path}: not a readable ONNX model (truncated or not an ONNX protobuf file: ${(err as Error).message})`, {
      cause: err,
    });
  }
  if (!model.graph || !model.graph.node?.length)
    throw new ModelLoadError(`${path}: not an ONNX model (no graph with nodes; truncated or not an ONNX file)`);
  checkComplete(model.graph, path);
  return { model, bytes: buffer.length };
}

/**
 * A truncated file can still decode (protobuf has no end marker) when the cut falls between
 * fields: then some node reads a tensor that nothing produces.
 */
function checkComplete(graph: GraphProto, path: string): void {
  const known = new Set<string>(['']);
  for (const t of graph.initializer ?? []) known.add(t.name ?? '');
  for (const v of graph.input ?? []) known.add(v.name ?? '');
  for (const node of graph.node ?? []) {
    for (const name of node.input ?? [])
      if (!known.has(name))
        throw new ModelLoadError(
          `${path}: node '${node.name || node.opType}' reads '${name}', which no node, initializer or input produces (truncated or corrupt file, or nodes not in topological order)`,
        );
    for (const name of node.output ?? []) known.add(name);
  }
  for (const out of graph.output ?? [])
    if (!known.has(out.name ?? ''))
      throw new ModelLoadError(`${path}: graph output '${out.name}' is never produced (truncated or corrupt file)`);
}

export function encodeOnnx(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Writes the model under a temporary name and renames it into place, so an interrupted run
 * never leaves a truncated graph under the real name (the bench caches trust any file they find).
 */
export async function writeOnnx(path: string, model: ModelProto): Promise<number> {
  const bytes = encodeOnnx(model);
  await writeFileAtomic(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { fsync: false });
  return bytes.length;
}

/** The opset of the default (ai.onnx) domain. */
export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return toInt(entry?.version);
}

/** Dimensions of a graph input/output: numbers, or the symbolic name (or '?') for dynamic ones. */
export function valueDims(value: ValueInfoProto): (number | string)[] | undefined {
  const shape = value.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d) =>
    d.dimValue !== null && d.dimValue !== undefined && toInt(d.dimValue) > 0 ? toInt(d.dimValue) : d.dimParam || '?',
  );
}

/** A float tensor graph output/input of unspecified shape. */
export function floatValue(name: string, dims?: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  };
}

/** External-data file names the model's tensors refer to (weights kept beside a model over 2 GB). */
export function externalDataFiles(model: ModelProto): string[] {
  const files = new Set<string>();
  const visit = (t: TensorProto) => {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
    const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
    if (location) files.add(location);
  };
  for (const t of model.graph?.initializer ?? []) visit(t);
  for (const node of model.graph?.node ?? []) for (const a of node.attribute ?? []) if (a.t) visit(a.t);
  return [...files];
}
