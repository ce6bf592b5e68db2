// SHA-256 of one binary input, the real-data workload of the peers suite: every pool gets its
// bytes moved (transferred), not copied. The same function runs in every peer.
import { createHash } from 'node:crypto';

export default function sha256({ data }) {
  return createHash('sha256').update(new Uint8Array(data)).digest('hex');
}
