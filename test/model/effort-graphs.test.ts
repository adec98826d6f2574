/**
 * The shipped effort graphs really leave skipped attention modules out (no Softmax, no
 * QKV/projection weights), rather than multiplying them by zero.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { loadModelFamily } from '../../src/model/manifest.js';

const { onnx } = onnxProto;
const family = loadModelFamily('models/fmnist-vit');
const { dim } = family.manifest.architecture;

function graphOf(file: string) {
  return onnx.ModelProto.decode(readFileSync(family.file(file))).graph!;
}

describe('effort graphs (shipped ONNX files)', () => {
  for (const effort of family.manifest.efforts) {
    it(`effort ${effort.effort} has exactly ${effort.effort} attention module(s)`, () => {
      const graph = graphOf(effort.file);
      const softmaxes = graph.node!.filter((n) => n.opType === 'Softmax').length;
      assert.equal(softmaxes, effort.effort, 'one Softmax per active attention');
      // QKV weights are the only dim x 3*dim matrices in the model.
      const qkvWeights = graph.initializer!.filter(
        (t) =>
          t.dims!.length === 2 &&
          t
            .dims!.map(Number)
            .sort((a, b) => a - b)
            .join('x') === `${dim}x${3 * dim}`,
      ).length;
      assert.equal(qkvWeights, effort.effort, 'one QKV weight matrix per active attention');
    });
  }
});
