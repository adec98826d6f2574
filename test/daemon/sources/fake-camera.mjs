#!/usr/bin/env node
/**
 * A stand-in for rpicam-vid or a GStreamer pipeline in tests: writes real JPEG frames (a
 * bundled sample image, encoded by sharp) back to back on stdout at a set rate, then stalls or
 * exits. Plain JavaScript so that it starts fast.
 *
 *   fake-camera.mjs --fps 10 --frames 5 --plan stall,exit,stream --pids <file> [--ignore-sigterm]
 *
 * Each start appends its pid to --pids; the run's place in --plan (the last entry repeats)
 * says what it does after --frames frames: `stall` (stays alive, writes nothing), `exit`
 * (exits with code 3) or `stream` (keeps writing frames).
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const { values } = parseArgs({
  options: {
    fps: { type: 'string', default: '10' },
    frames: { type: 'string', default: '5' },
    plan: { type: 'string', default: 'stream' },
    pids: { type: 'string' },
    'ignore-sigterm': { type: 'boolean', default: false },
  },
});
const run = values.pids && existsSync(values.pids) ? readFileSync(values.pids, 'utf8').split('\n').filter(Boolean).length : 0;
if (values.pids) appendFileSync(values.pids, `${process.pid}\n`);
// A program that does not stop on SIGTERM, as a hung camera read can be: only SIGKILL ends it.
if (values['ignore-sigterm']) process.on('SIGTERM', () => process.stderr.write('fake camera ignores SIGTERM\n'));
const plan = values.plan.split(',');
const mode = plan[Math.min(run, plan.length - 1)];
process.stderr.write(`fake camera run ${run + 1}: ${mode}\n`);

const sample = fileURLToPath(new URL('../../../models/fmnist-vit/samples/sneaker/', import.meta.url));
const file = `${sample}${readdirSync(sample).sort()[0]}`;
const jpeg = await sharp(file).resize(56, 56).jpeg({ quality: 90 }).toBuffer();

let written = 0;
const timer = setInterval(() => {
  if (written >= Number(values.frames) && mode !== 'stream') {
    clearInterval(timer);
    if (mode === 'exit') process.exit(3);
    setInterval(() => {}, 60_000); // stall: alive, silent
    return;
  }
  process.stdout.write(jpeg);
  written++;
}, 1000 / Number(values.fps));
