// Cuts a byte stream into parts of exactly `size` bytes (the last one shorter), holding at most one part in memory.
export async function* partsOf(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (pendingBytes + buf.length >= size) {
      const take = size - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending, size);
      pending = [];
      pendingBytes = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      // Copy: the source may reuse its buffer for the next chunk.
      pending.push(Buffer.from(buf));
      pendingBytes += buf.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
