/**
 * One run of an ONNX file on a zero input, reporting the dimensions of the requested
 * outputs: how `pivot import` learns the shapes a graph computes (tokens, width, heads,
 * classes) without a shape-inference engine of its own.
 */
import { ModelLoadError } from '../errors.js';
import { createSession, float32Tensor, showDims } from './ort.js';

export async function outputDims(
  file: string,
  input: { name: string; dims: readonly number[] },
  outputs: readonly string[],
): Promise<Record<string, readonly number[]>> {
  const session = await createSession(file, { intraOpThreads: 1, interOpThreads: 1 });
  try {
    const size = input.dims.reduce((a, b) => a * b, 1);
    const result = await session.run({ [input.name]: float32Tensor(new Float32Array(size), input.dims) }, [...outputs]);
    return Object.fromEntries(outputs.map((name) => [name, result[name]!.dims]));
  } catch (err) {
    throw new ModelLoadError(`${file}: onnxruntime cannot run it on a zero input ${showDims(input.dims)}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await session.release();
  }
}
