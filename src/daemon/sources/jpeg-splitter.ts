/** Start of image (with the first byte of the next marker) and end of image markers. */
const SOI = Buffer.from([0xff, 0xd8, 0xff]);
const EOI = Buffer.from([0xff, 0xd9]);

/**
 * Cuts ffmpeg's image2pipe MJPEG output (JPEGs back to back) into whole images.
 * ffmpeg's encoder writes no embedded thumbnails, so the first EOI after an SOI ends the image.
 */
export class JpegSplitter {
  #buffer: Buffer = Buffer.alloc(0);
  /** Where the EOI search resumes: the bytes before it were already searched. */
  #scanFrom = 0;

  /** `maxBytes` bounds memory if the stream is not JPEG at all. */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** Bytes held back waiting for the rest of an image. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Adds a chunk of the stream; returns the images it completed. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const images: Buffer[] = [];
    for (;;) {
      const start = this.#buffer.indexOf(SOI);
      if (start < 0) {
        // Keep a possible partial marker at the end.
        this.#buffer = this.#buffer.subarray(Math.max(0, this.#buffer.length - (SOI.length - 1)));
        this.#scanFrom = 0;
        break;
      }
      if (start > 0) {
        this.#buffer = this.#buffer.subarray(start);
        this.#scanFrom = 0;
      }
      const end = this.#buffer.indexOf(EOI, Math.max(SOI.length, this.#scanFrom));
      if (end < 0) {
        if (this.#buffer.length > this.maxBytes) {
          // Too long for an image: give up on this one and resync at the next SOI.
          this.#buffer = this.#buffer.subarray(SOI.length);
          continue;
        }
        this.#scanFrom = Math.max(0, this.#buffer.length - (EOI.length - 1));
        break;
      }
      // A copy, so the frame does not pin the larger stream buffer in memory.
      images.push(Buffer.from(this.#buffer.subarray(0, end + EOI.length)));
      this.#buffer = this.#buffer.subarray(end + EOI.length);
      this.#scanFrom = 0;
    }
    return images;
  }
}
