// Receives one large binary input and returns its length without reading it: what it costs is
// getting the bytes to the worker, which is what the 64 MiB transfer figure measures.
export default function byteLength({ data }) {
  return data.byteLength;
}
