/**
 * The one wrapper around onnxruntime-node (the only file that imports it): sessions created
 * with the same options everywhere, a load failure as a ModelLoadError naming the file,
 * float32 tensors, and the check that a graph's input or output accepts the manifest's shape.
 */
import * as ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.js';

export type OrtSession = ort.InferenceSession;
export type OrtOutputs = ort.InferenceSession.OnnxValueMapType;

export interface SessionOptions {
  /** Threads inside one operator (onnxruntime's intraOpNumThreads); default: onnxruntime's choice (all cores). */
  intraOpThreads?: number;
  /** Threads across independent operators (interOpNumThreads); only used with parallel execution. */
  interOpThreads?: number;
}

/** Loads an ONNX file; a file onnxruntime refuses is a ModelLoadError naming it. */
export async function createSession(file: string, options: SessionOptions = {}): Promise<OrtSession> {
  try {
    return await ort.InferenceSession.create(file, {
      // onnxruntime-node rejects keys set to undefined: pass thread counts only when chosen.
      ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...(options.interOpThreads !== undefined ? { interOpNumThreads: options.interOpThreads } : {}),
      executionMode: options.interOpThreads && options.interOpThreads > 1 ? 'parallel' : 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw new ModelLoadError(`${file}: onnxruntime cannot load it: ${(err as Error).message}`, { cause: err });
  }
}

export const float32Tensor = (data: Float32Array, dims: readonly number[]): ort.Tensor => new ort.Tensor('float32', data, [...dims]);

type Dims = ReadonlyArray<number | string>;

export const showDims = (dims: Dims): string => `[${dims.join(',')}]`;

/**
 * Whether a graph dimension list accepts every shape the manifest allows: a manifest -1 (any
 * size, e.g. the batch) needs a dynamic graph dimension (symbolic or -1); a fixed manifest size
 * needs the same size or a dynamic one.
 */
export function dimsAccept(manifest: readonly number[], model: Dims): boolean {
  return (
    manifest.length === model.length &&
    manifest.every((m, i) => {
      const d = model[i];
      const dynamic = typeof d === 'string' || d === -1;
      return m === -1 ? dynamic : dynamic || d === m;
    })
  );
}
