import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { JpegSplitter } from '../../../src/daemon/sources/jpeg-splitter.js';

const jpeg = (r: number) =>
  sharp({ create: { width: 16, height: 8, channels: 3, background: { r, g: 0, b: 0 } } })
    .jpeg()
    .toBuffer();

describe('JPEG stream splitter', () => {
  it('cuts back-to-back JPEGs at any chunk boundary, skipping leading garbage', async () => {
    const images = [await jpeg(10), await jpeg(200), await jpeg(90)];
    const stream = Buffer.concat([Buffer.from('noise\xff'), ...images]);
    for (const chunkSize of [1, 2, 3, 7, 64, stream.length]) {
      const splitter = new JpegSplitter();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += chunkSize) out.push(...splitter.push(stream.subarray(i, i + chunkSize)));
      assert.deepEqual(out, images, `chunk size ${chunkSize}`);
    }
  });

  it('holds back an unfinished image and bounds memory on a stream that is not JPEG', () => {
    const splitter = new JpegSplitter(1024);
    assert.deepEqual(splitter.push(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])), []);
    assert.deepEqual(splitter.push(Buffer.alloc(4096, 7)), []);
    assert.ok(splitter.buffered <= 1024, `${splitter.buffered} bytes held`);
    const complete = Buffer.from([0xff, 0xd8, 0xff, 0xdb, 9, 0xff, 0xd9]);
    assert.deepEqual(splitter.push(complete), [complete]);
  });
});
