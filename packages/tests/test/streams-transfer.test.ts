// Zero-copy both ways: transferred inputs are detached in the caller and arrive whole in the
// worker; results marked with ctx.transfer come back whole; bad transfer lists are refused.
import { createHash } from 'node:crypto';
import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StreamCoordinator, StreamError } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();
const MiB = 1 << 20;

function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 256;
  return bytes;
}
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('transfer', () => {
  it('moves an input ArrayBuffer: detached here, whole in the worker', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const bytes = pattern(4 * MiB);
    const expected = sha256(bytes);
    const data = bytes.buffer as ArrayBuffer;
    const [r] = await coordinator.executeParallel([{ id: 'm', task: streamModule('hash-buffer.mjs'), input: { data }, transfer: [data] }]);
    expect(r!.value).toEqual({ bytes: 4 * MiB, sha256: expected });
    expect(data.byteLength).toBe(0);
  });

  it('a typed array in the list moves its buffer; Piscina.move(input) is honoured, not emptied', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const view = pattern(MiB);
    const expected = sha256(view);
    const moved = pattern(MiB);
    const results = await coordinator.executeParallel([
      { id: 'view', task: streamModule('hash-buffer.mjs'), input: { data: view }, transfer: [view] },
      { id: 'move', task: streamModule('hash-buffer.mjs'), input: Piscina.move(moved) as unknown },
    ]);
    expect(results.map((r) => r.value)).toEqual([
      { bytes: MiB, sha256: expected },
      { bytes: MiB, sha256: expected },
    ]);
    expect(view.byteLength).toBe(0);
    expect(moved.byteLength).toBe(0);
  });

  it('a result marked with ctx.transfer comes back whole', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const value = await coordinator.run<{ bytes: Uint8Array }>({ id: 'make', task: streamModule('make-buffer.mjs'), input: { size: 3 * MiB } });
    expect(value.bytes.byteLength).toBe(3 * MiB);
    expect(value.bytes[1000]).toBe(1000 % 251);
    expect(value.bytes[3 * MiB - 1]).toBe((3 * MiB - 1) % 251);
  });

  it('refuses SharedArrayBuffers and non-transferables in the list, before anything moves', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const shared = new SharedArrayBuffer(8);
    const data = new ArrayBuffer(8);
    await expect(coordinator.executeParallel([{ id: 'a', input: { shared }, transfer: [shared as never] }])).rejects.toThrow(/SharedArrayBuffer: it is shared/);
    await expect(coordinator.executeParallel([{ id: 'a', input: {}, transfer: [{} as never] }])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(coordinator.executeParallel([{ id: 'a', input: {}, transfer: 'x' as never }])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(data.byteLength).toBe(8);
  });

  it('a stream that moved its input is not restarted with a detached buffer: it fails with StreamError', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, heartbeatTimeoutMs: 150 }));
    const data = pattern(1024).buffer as ArrayBuffer;
    const [r] = await coordinator.executeParallel([{ id: 'stuck', task: streamModule('spin.mjs'), input: { data, ms: 60_000 }, transfer: [data] }]);
    expect(r).toMatchObject({ status: 'failed', attempts: 2, error: { name: new StreamError('').name } });
    expect(r!.error!.message).toMatch(/moved its input/);
  });
});
