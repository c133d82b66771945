// Stream fixtures shared by the storage tests.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;

/** `size` bytes that start like a PDF and are random after that. */
export function pdfBytes(size: number): Buffer {
  const buf = randomBytes(size);
  Buffer.from('%PDF-1.7\n').copy(buf, 0);
  return buf;
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** A stream of `data` in `chunkSize` pieces, produced asynchronously like a socket would. */
export function chunkedSource(data: Buffer, chunkSize = 64 * 1024): Readable {
  let offset = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (offset >= data.length) {
          this.push(null);
          return;
        }
        this.push(data.subarray(offset, offset + chunkSize));
        offset += chunkSize;
      });
    },
  });
}

/** Yields the first `failAfter` bytes of `data`, then errors with `error` (a dropped client). */
export function failingSource(data: Buffer, failAfter: number, error: Error, chunkSize = 64 * 1024): Readable {
  let offset = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (offset >= failAfter) {
          this.destroy(error);
          return;
        }
        const end = Math.min(offset + chunkSize, failAfter);
        this.push(data.subarray(offset, end));
        offset = end;
      });
    },
  });
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function collectAsync<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
