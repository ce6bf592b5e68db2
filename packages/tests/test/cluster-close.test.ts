// Issue 15: closing a ClusterCoordinator (or an embedded ClusterNode) lets its process end.
// BullMQ never closes a client it is handed, and the two the coordinator handed it kept their
// sockets open: a script or CLI that ran a cluster job never exited.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithRedis, startRedis, type RedisServer } from './redis-harness.js';
import { fixture } from './helpers.js';

describeWithRedis('cluster: close() lets the process end', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a process that connected a coordinator and a node, then closed them, exits on its own', async () => {
    const child = spawn(process.execPath, [fixture('cluster/close-and-exit.mjs').pathname, server.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // Closing takes a few seconds at most; a process still alive at 15 s is held open by a leak.
    const exited = await new Promise<number | 'alive'>((resolve) => {
      const timer = setTimeout(() => resolve('alive'), 15_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? -1);
      });
    });
    if (exited === 'alive') child.kill('SIGKILL');
    expect(out).toContain('closed');
    expect(exited).toBe(0);
  }, 30_000);
});
