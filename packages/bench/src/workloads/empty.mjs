// The empty task: measures round-trip cost alone.
export default function empty() {
  return 0;
}
