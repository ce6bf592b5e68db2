// Who may run what: a node runs only modules under its --allow roots or package names, and
// nothing of a refused module runs; Redis AUTH is enforced; secrets never reach the logs.
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClusterCoordinator, redact } from '@tributary/runtime/cluster';
import { describeWithRedis, startRedis, type RedisServer } from './redis-harness.js';
import { clusterStream, kill9, spawnNode, startNode, STREAMS_ROOT, type NodeProcess } from './cluster-nodes.js';
import { fixture } from './helpers.js';

const EVIL = fixture('cluster/outside/evil.mjs').pathname;

describeWithRedis('cluster: who may run what', () => {
  let server: RedisServer;
  let dir: string;
  const nodes: NodeProcess[] = [];
  const coordinators: ClusterCoordinator[] = [];

  beforeAll(async () => {
    server = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'tributary-allow-'));
  });
  afterAll(async () => {
    await Promise.all(coordinators.map((c) => c.close()));
    await Promise.all(nodes.map(kill9));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a path outside --allow, a symlink leading out, data: and http: URLs and unlisted packages; none of them runs', async () => {
    // An allowed root holding a symlink to the forbidden module.
    const root = join(dir, 'root');
    const marker = join(dir, 'evil-ran');
    await import('node:fs/promises').then((fs) => fs.mkdir(root));
    symlinkSync(EVIL, join(root, 'link.mjs'));
    const env = { EVIL_MARKER: marker };
    const node = await startNode(['--connection', server.socket, '--name', 'guarded', '--threads', '2', '--allow', STREAMS_ROOT, '--allow', root], env);
    nodes.push(node);
    const c = new ClusterCoordinator({ connection: server.socket, name: 'guarded' });
    coordinators.push(c);
    const dataUrl = `data:text/javascript,import {writeFileSync} from 'node:fs'; writeFileSync(process.env.EVIL_MARKER, 'data'); export default () => 1;`;
    const results = await c.executeParallel(
      [
        { id: 'outside', task: EVIL },
        { id: 'symlink', task: join(root, 'link.mjs') },
        { id: 'data', task: dataUrl },
        { id: 'http', task: 'http://127.0.0.1:9/evil.mjs' },
        { id: 'package', task: 'left-pad' },
        { id: 'allowed', task: clusterStream('echo.mjs'), input: 1 },
      ],
      { timeoutMs: 20_000 },
    );
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    for (const id of ['outside', 'symlink', 'data', 'http', 'package']) {
      expect(byId[id]!.status, id).toBe('failed');
      expect(byId[id]!.error, id).toMatchObject({ name: 'ForbiddenModuleError', code: 'ERR_TRIBUTARY_INVALID_ARGUMENT' });
    }
    expect(byId.outside!.error!.message).toMatch(/outside every --allow root/);
    expect(byId.symlink!.error!.message).toMatch(/through a symlink/);
    expect(byId.data!.error!.message).toMatch(/data: modules are never run/);
    expect(byId.http!.error!.message).toMatch(/http: modules are never run/);
    expect(byId.package!.error!.message).toMatch(/--allow left-pad/);
    expect(byId.allowed!.status).toBe('complete');
    // Nothing of the refused modules ran: not even their top-level code.
    expect(existsSync(marker)).toBe(false);
    expect(node.events.filter((e) => e.event === 'refused')).toHaveLength(5);
  });

  it('the same module runs on a node that allows its directory (the refusal above is the guard, not the fixture)', async () => {
    const marker = join(dir, 'evil-ran-allowed');
    const node = await startNode(['--connection', server.socket, '--name', 'open', '--threads', '1', '--allow', fixture('cluster/outside').pathname], { EVIL_MARKER: marker });
    nodes.push(node);
    const c = new ClusterCoordinator({ connection: server.socket, name: 'open' });
    coordinators.push(c);
    const r = await c.run({ id: 'evil', task: EVIL }, { timeoutMs: 20_000 });
    expect(r).toMatchObject({ status: 'complete', value: 'ran' });
    expect(existsSync(marker)).toBe(true);
  });

  it('a Redis with requirepass refuses a node without the password or with a wrong one, and the password is never printed', async () => {
    const secret = 'pw-9f3c1d7e';
    const locked = await startRedis(['--requirepass', secret]);
    try {
      for (const env of [{}, { TRIBUTARY_REDIS_PASSWORD: 'wrong-pw-51ab' }]) {
        const node = spawnNode(['--connection', locked.socket, '--name', 'locked'], env);
        nodes.push(node);
        expect(await node.exited).toBe(1);
        expect(node.stderr()).toMatch(/NOAUTH|WRONGPASS|invalid password/i);
        expect(node.stderr()).not.toContain('wrong-pw-51ab');
      }
      const node = await startNode(['--connection', locked.socket, '--name', 'locked', '--threads', '1', '--allow', STREAMS_ROOT], { TRIBUTARY_REDIS_PASSWORD: secret });
      nodes.push(node);
      const c = new ClusterCoordinator({ connection: { path: locked.socket, password: secret }, name: 'locked' });
      coordinators.push(c);
      expect(await c.run({ id: 'e', task: clusterStream('echo.mjs'), input: 2 }, { timeoutMs: 20_000 })).toMatchObject({ status: 'complete' });
      expect(JSON.stringify(node.events) + node.stderr()).not.toContain(secret);
    } finally {
      await Promise.all(coordinators.splice(0).map((c) => c.close()));
      await locked.stop();
    }
  });

  it('redacts credentials in every URL of a message', () => {
    expect(redact('cannot reach rediss://admin:hunter2@db.internal:6380/0 (timeout)')).toBe('cannot reach rediss://***@db.internal:6380/0 (timeout)');
    expect(redact('redis://:only-pw@10.0.0.5:6379')).toBe('redis://***@10.0.0.5:6379');
    expect(redact('no secret in /tmp/redis.sock')).toBe('no secret in /tmp/redis.sock');
  });

  it('refuses a bad --allow root at start, saying what to fix', async () => {
    const node = spawnNode(['--connection', server.socket, '--allow', join(dir, 'missing')]);
    nodes.push(node);
    expect(await node.exited).not.toBe(0);
    expect(node.stderr()).toMatch(/--allow .*no such file or directory/);
  });
});
