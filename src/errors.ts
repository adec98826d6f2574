/**
 * Named error classes. Every error a user can cause names the input (file, field,
 * option) and the reason; the CLI maps each class to an exit code.
 */
export class PivotError extends Error {
  /** Process exit code the CLI uses for this class of error (also on the class: `InputError.exitCode`); 1 is any other failure. */
  static readonly exitCode: number = 1;
  readonly exitCode: number = PivotError.exitCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration file or option is missing, malformed or inconsistent. */
export class ConfigError extends PivotError {
  static override readonly exitCode = 2;
  override readonly exitCode = ConfigError.exitCode;
}

/** A model directory, manifest or ONNX file cannot be used. */
export class ModelLoadError extends PivotError {
  static override readonly exitCode = 3;
  override readonly exitCode = ModelLoadError.exitCode;
}

/** An input (image, dataset file) cannot be decoded or is refused. */
export class InputError extends PivotError {
  static override readonly exitCode = 4;
  override readonly exitCode = InputError.exitCode;
  constructor(
    readonly input: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${input}: ${reason}`, options);
  }
}

/** The inference runtime failed on inputs that passed validation (shape, dtype or a runtime fault). */
export class InferenceError extends PivotError {
  static override readonly exitCode = 5;
  override readonly exitCode = InferenceError.exitCode;
}
