import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { CameraSourceConfig } from '../config.js';
import { stripCredentials } from '../../util/url.js';
import { resolveProgram, type Program } from './executable.js';
import { ProcessSource, type Launch, type ProcessOptions } from './process.js';

export interface CameraOptions extends ProcessOptions {
  /** The ffmpeg executable; default `ffmpeg` on PATH. */
  ffmpeg?: string;
}

const FFMPEG_INSTALL = 'sudo apt install ffmpeg';

/** Whether `ffmpeg -f v4l2 -list_formats all` output lists MJPEG among a camera's compressed formats. */
export function offersMjpeg(listFormats: string): boolean {
  return /Compressed:\s*mjpeg\b/.test(listFormats);
}

/** Whether the output lists any format at all (the camera answered). */
function listsFormats(listFormats: string): boolean {
  return /(Compressed|Raw)\s*:/.test(listFormats);
}

/**
 * A camera or stream read by ffmpeg; the pipeline gets the newest frame, at most `fps` a second.
 * A USB (V4L2) camera that offers MJPEG has its JPEG frames passed through untouched
 * (`-input_format mjpeg -c:v copy`): no decode and re-encode on the device's CPU. Otherwise
 * ffmpeg decodes, samples at `fps` and encodes JPEG.
 */
export class CameraSource extends ProcessSource {
  readonly type = 'camera';
  protected readonly shown: string;
  readonly #ffmpeg: string;
  /** Pass-through or not, once known (`auto` asks a V4L2 camera at the first start). */
  #copy: boolean | undefined;

  constructor(
    private readonly config: CameraSourceConfig,
    logger: Logger,
    options: CameraOptions = {},
  ) {
    super(config, logger, options);
    this.shown = `camera ${stripCredentials(config.input)}`;
    this.#ffmpeg = options.ffmpeg ?? 'ffmpeg';
    if (config.passthrough !== 'auto') this.#copy = config.passthrough;
    else if (!this.#isV4l2()) this.#copy = false;
  }

  /** ffmpeg's arguments: JPEG frames to stdout, either the input's own (`copy`) or encoded at `fps`. */
  ffmpegArgs(copy = false): string[] {
    const { input, format, fps, input_args } = this.config;
    const v4l2 = this.#isV4l2();
    return [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      ...input_args,
      ...(format ? ['-f', format] : copy && v4l2 ? ['-f', 'v4l2'] : []),
      ...(copy && v4l2 ? ['-input_format', 'mjpeg'] : []),
      '-i',
      input,
      '-an',
      ...(copy ? ['-c:v', 'copy', '-f', 'mjpeg'] : ['-vf', `fps=${fps}`, '-f', 'image2pipe', '-vcodec', 'mjpeg', '-q:v', '3']),
      '-',
    ];
  }

  override async start(): Promise<void> {
    this.logger.info({ input: this.shown }, `capturing ${this.shown} at up to ${this.config.fps} fps with ffmpeg`);
    await super.start();
  }

  protected async launch(): Promise<Launch> {
    const ffmpeg: Program = { name: this.#ffmpeg, install: FFMPEG_INSTALL };
    const { file } = await resolveProgram([ffmpeg]);
    this.#copy ??= await this.#probeMjpeg(file);
    return { file, args: this.ffmpegArgs(this.#copy ?? false), program: 'ffmpeg' };
  }

  #isV4l2(): boolean {
    return this.config.format === 'v4l2' || (!this.config.format && this.config.input.startsWith('/dev/video'));
  }

  /** Asks the V4L2 camera for its formats; undefined when it does not answer (asked again at the next start). */
  async #probeMjpeg(ffmpeg: string): Promise<boolean | undefined> {
    const args = ['-hide_banner', '-f', 'v4l2', '-list_formats', 'all', '-i', this.config.input];
    // ffmpeg exits non-zero after listing ("Immediate exit requested"): the listing is on stderr either way.
    const output = await new Promise<string>((resolve) => {
      execFile(ffmpeg, args, { timeout: 10_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
    });
    if (!listsFormats(output)) {
      this.logger.debug({ input: this.shown }, 'camera did not list its formats; encoding JPEG with ffmpeg for now');
      return undefined;
    }
    const copy = offersMjpeg(output);
    this.logger.info(
      { input: this.shown, passthrough: copy },
      copy
        ? 'camera offers MJPEG: passing its JPEG frames through (no re-encoding)'
        : 'camera offers only raw formats: encoding JPEG with ffmpeg',
    );
    return copy;
  }
}
