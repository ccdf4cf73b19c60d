// kafkajs-snappy ships no types: a codec factory in kafkajs's codec shape.
declare module 'kafkajs-snappy' {
  const createSnappyCodec: () => {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>
    decompress(buffer: Buffer): Promise<Buffer>
  }
  export default createSnappyCodec
}
