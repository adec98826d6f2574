/**
 * Sources that run a program writing MJPEG to stdout: `command` (any program, arguments as a
 * list, no shell) and the presets that expand into one, `rpicam` (Raspberry Pi camera modules
 * through rpicam-vid) and `jetson-csi` (Jetson CSI cameras through GStreamer).
 */
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { CommandSourceConfig, JetsonCsiSourceConfig, RpicamSourceConfig } from '../config.js';
import { resolveProgram, type Program } from './executable.js';
import { ProcessSource, type Launch, type ProcessOptions } from './process.js';

/** What a command source runs: the first of `programs` installed here, with `args`. */
export interface CommandPlan {
  programs: Program[];
  args: string[];
}

/**
 * rpicam-vid (Raspberry Pi OS Bookworm and later; libcamera-vid on older releases, same options):
 * MJPEG at `fps` to stdout, no preview window, running until stopped.
 */
export function rpicamPlan(config: Pick<RpicamSourceConfig, 'camera' | 'width' | 'height' | 'fps' | 'args'>): CommandPlan {
  return {
    programs: [
      { name: 'rpicam-vid', install: 'sudo apt install rpicam-apps' },
      { name: 'libcamera-vid', install: 'sudo apt install libcamera-apps' },
    ],
    args: [
      '-t',
      '0',
      '--codec',
      'mjpeg',
      '--nopreview',
      '--width',
      String(config.width),
      '--height',
      String(config.height),
      '--framerate',
      String(config.fps),
      '--camera',
      String(config.camera),
      ...config.args,
      '-o',
      '-',
    ],
  };
}

/** A GStreamer pipeline: the CSI sensor through the Jetson's hardware JPEG encoder to stdout. */
export function jetsonCsiPlan(config: Pick<JetsonCsiSourceConfig, 'sensor_id' | 'width' | 'height' | 'framerate'>): CommandPlan {
  const caps = `video/x-raw(memory:NVMM),width=${config.width},height=${config.height},framerate=${config.framerate}/1`;
  return {
    programs: [
      {
        name: 'gst-launch-1.0',
        install:
          'sudo apt install gstreamer1.0-tools (nvarguscamerasrc and nvjpegenc come with JetPack: sudo apt install nvidia-l4t-gstreamer)',
      },
    ],
    // -q: gst-launch otherwise prints its state changes on stdout, into the JPEG stream.
    args: ['-q', 'nvarguscamerasrc', `sensor-id=${config.sensor_id}`, '!', caps, '!', 'nvjpegenc', '!', 'fdsink', 'fd=1'],
  };
}

/** A user's own command: its first element is the program. */
function commandPlan(config: Pick<CommandSourceConfig, 'command'>): CommandPlan {
  const [name, ...args] = config.command;
  return { programs: [{ name: name! }], args };
}

type CommandLikeConfig = CommandSourceConfig | RpicamSourceConfig | JetsonCsiSourceConfig;

function planFor(config: CommandLikeConfig): CommandPlan {
  switch (config.type) {
    case 'command':
      return commandPlan(config);
    case 'rpicam':
      return rpicamPlan(config);
    case 'jetson-csi':
      return jetsonCsiPlan(config);
  }
}

/** A `command`, `rpicam` or `jetson-csi` source. */
export class CommandSource extends ProcessSource {
  readonly type: CommandLikeConfig['type'];
  protected readonly shown: string;
  readonly #plan: CommandPlan;
  /** The program found at the last start, so a change (e.g. rpicam-vid installed later) is logged. */
  #found: string | undefined;

  constructor(config: CommandLikeConfig, logger: Logger, options: ProcessOptions = {}) {
    super(config, logger, options);
    this.type = config.type;
    this.#plan = planFor(config);
    this.shown = `${config.type} source ${config.name}`;
  }

  override async start(): Promise<void> {
    const command = [this.#plan.programs.map((p) => p.name).join(' | '), ...this.#plan.args].join(' ');
    this.logger.info({ command }, `capturing from ${command}`);
    await super.start();
  }

  protected async launch(): Promise<Launch> {
    const { program, file } = await resolveProgram(this.#plan.programs);
    if (file !== this.#found) {
      this.#found = file;
      const missing = this.#plan.programs.slice(0, this.#plan.programs.indexOf(program)).map((p) => p.name);
      this.logger.info({ program: program.name, file }, `using ${file}${missing.length ? ` (${missing.join(', ')} not found)` : ''}`);
    }
    return { file, args: this.#plan.args, program: basename(program.name) };
  }
}
