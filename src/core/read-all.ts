// Collects a stream into one Buffer. node:stream/consumers' buffer() goes through a Blob and costs 3–5× more
// for the many small chunks a tar packer or a blob read yields (measured: 1,500 chunks, 16 ms against 3 ms).
export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    if (typeof chunk === "string") chunks.push(Buffer.from(chunk));
    else if (chunk instanceof Uint8Array)
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    else throw new TypeError("readAll: the stream yielded something that is not bytes");
  }
  return Buffer.concat(chunks);
}
