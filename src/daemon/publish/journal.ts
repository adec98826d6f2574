/**
 * The outbox's on-disk format: append-only segment files of checksummed records.
 *
 *   record = magic u16 | body length u32 | crc32 u32 | body           (little endian)
 *   body   = id u48 | seq u48 | flags u8 | stream length u16 | topic length u16 | stream | topic | payload
 *   flags  = qos (bits 0-1) | retain (bit 2) | has seq (bit 3)
 *
 * The CRC covers the length field and the body, so a flipped length is caught like a flipped
 * payload byte. The payload is stored as it goes on the wire (no JSON escaping), which keeps a
 * record about 50 bytes longer than its payload.
 */
import { crc32 } from 'node:zlib';

/** One queued message as it is stored. */
export interface JournalRecord {
  /** Outbox id: increases by one per message, across segments and restarts. */
  id: number;
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** The sequence a `seq` belongs to (a source name), when the message carries one. */
  stream?: string;
  seq?: number;
}

/** A stretch of a segment that is not a valid record: torn by a power cut, or corrupted. */
export interface DamagedRegion {
  offset: number;
  bytes: number;
  /** Id of the last valid record before it in this segment, if any. */
  after?: number;
  /** Id of the first valid record after it in this segment; undefined when it runs to the end. */
  before?: number;
}

const MAGIC = 0x4550; // "PE" on disk
const MAGIC_BYTES = Buffer.from([MAGIC & 0xff, MAGIC >> 8]);
const HEADER = 2 + 4 + 4;
const FIXED_BODY = 6 + 6 + 1 + 2 + 2;
const QOS_MASK = 0b011;
const RETAIN = 0b100;
const HAS_SEQ = 0b1000;

/** CRC-32 of a record's length field followed by its body. */
function checksum(bytes: Buffer, offset: number, end: number): number {
  return crc32(bytes.subarray(offset + HEADER, end), crc32(bytes.subarray(offset + 2, offset + 6)));
}

/** Bytes `record` takes on disk. */
export function recordLength(record: JournalRecord): number {
  return HEADER + FIXED_BODY + Buffer.byteLength(record.stream ?? '') + Buffer.byteLength(record.topic) + Buffer.byteLength(record.payload);
}

/** Encodes one record, ready to append. */
export function encodeRecord(record: JournalRecord): Buffer {
  const stream = Buffer.from(record.stream ?? '', 'utf8');
  const topic = Buffer.from(record.topic, 'utf8');
  const payload = Buffer.from(record.payload, 'utf8');
  const bodyLength = FIXED_BODY + stream.length + topic.length + payload.length;
  const out = Buffer.allocUnsafe(HEADER + bodyLength);
  out.writeUInt16LE(MAGIC, 0);
  out.writeUInt32LE(bodyLength, 2);
  let at = HEADER;
  at = out.writeUIntLE(record.id, at, 6);
  at = out.writeUIntLE(record.seq ?? 0, at, 6);
  at = out.writeUInt8(record.qos | (record.retain ? RETAIN : 0) | (record.seq !== undefined ? HAS_SEQ : 0), at);
  at = out.writeUInt16LE(stream.length, at);
  at = out.writeUInt16LE(topic.length, at);
  at += stream.copy(out, at);
  at += topic.copy(out, at);
  payload.copy(out, at);
  out.writeUInt32LE(checksum(out, 0, out.length), 6);
  return out;
}

/** The record at `offset` with the offset after it, or undefined if the bytes there are not a whole, valid record. */
function decodeAt(bytes: Buffer, offset: number): { record: JournalRecord; end: number } | undefined {
  if (offset + HEADER > bytes.length || bytes.readUInt16LE(offset) !== MAGIC) return undefined;
  const bodyLength = bytes.readUInt32LE(offset + 2);
  const end = offset + HEADER + bodyLength;
  if (bodyLength < FIXED_BODY || end > bytes.length) return undefined;
  if (checksum(bytes, offset, end) !== bytes.readUInt32LE(offset + 6)) return undefined;
  const body = bytes.subarray(offset + HEADER, end);
  const id = body.readUIntLE(0, 6);
  const seq = body.readUIntLE(6, 6);
  const flags = body.readUInt8(12);
  const streamLength = body.readUInt16LE(13);
  const topicLength = body.readUInt16LE(15);
  if (FIXED_BODY + streamLength + topicLength > body.length || (flags & QOS_MASK) === 3) return undefined;
  let at = FIXED_BODY;
  const stream = body.toString('utf8', at, (at += streamLength));
  const topic = body.toString('utf8', at, (at += topicLength));
  const record: JournalRecord = {
    id,
    topic,
    payload: body.toString('utf8', at),
    qos: (flags & QOS_MASK) as 0 | 1 | 2,
    retain: (flags & RETAIN) !== 0,
    ...(flags & HAS_SEQ ? { stream, seq } : {}),
  };
  return { record, end };
}

/**
 * Reads every valid record of a segment, in order. Bytes that are not a valid record are
 * skipped up to the next position where one decodes (a record's magic, length and CRC all
 * agree), and reported as damaged regions rather than stopping the read.
 */
export function decodeSegment(bytes: Buffer): { records: JournalRecord[]; damaged: DamagedRegion[] } {
  const records: JournalRecord[] = [];
  const damaged: DamagedRegion[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const decoded = decodeAt(bytes, offset);
    if (decoded) {
      records.push(decoded.record);
      offset = decoded.end;
      continue;
    }
    const start = offset;
    let next: { record: JournalRecord; end: number } | undefined;
    let probe = start + 1;
    while (!next) {
      probe = bytes.indexOf(MAGIC_BYTES, probe);
      if (probe < 0) break;
      next = decodeAt(bytes, probe);
      if (!next) probe++;
    }
    const after = records.at(-1)?.id;
    const end = next ? probe : bytes.length;
    damaged.push({
      offset: start,
      bytes: end - start,
      ...(after !== undefined ? { after } : {}),
      ...(next ? { before: next.record.id } : {}),
    });
    offset = end;
  }
  return { records, damaged };
}
