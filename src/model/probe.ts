/**
 * One run of an ONNX file on a zero input, reporting the dimensions of the requested
 * outputs: how `pivot import` learns the shapes a graph computes (tokens, width, heads,
 * classes) without a shape-inference engine of its own.
 */
import * as ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.js';

export async function outputDims(
  file: string,
  input: { name: string; dims: readonly number[] },
  outputs: readonly string[],
): Promise<Record<string, readonly number[]>> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  } catch (err) {
    throw new ModelLoadError(`${file}: onnxruntime cannot load it: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = input.dims.reduce((a, b) => a * b, 1);
    const result = await session.run({ [input.name]: new ort.Tensor('float32', new Float32Array(size), [...input.dims]) }, [...outputs]);
    return Object.fromEntries(outputs.map((name) => [name, result[name]!.dims]));
  } catch (err) {
    throw new ModelLoadError(`${file}: onnxruntime cannot run it on a zero input [${input.dims.join(',')}]: ${(err as Error).message}`, { cause: err });
  } finally {
    await session.release();
  }
}
