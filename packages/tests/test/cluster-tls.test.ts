// Issue 15: the cluster over TLS (rediss://). A real redis-server listening only on a TLS port
// of the loopback address, with a throwaway CA and server certificate made by openssl in a
// temporary directory; a tributary-node trusts the CA through NODE_EXTRA_CA_CERTS (Node's own
// way, nothing of ours), the coordinator through ioredis' `tls.ca`. Skipped, loudly, where
// redis-server was built without TLS or openssl is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCoordinator, openRedis } from '@tributary/runtime/cluster';
import { redisInstalled, startRedis, type RedisServer } from './redis-harness.js';
import { clusterStream, kill9, startNode, STREAMS_ROOT, type NodeProcess } from './cluster-nodes.js';

/** Why TLS cannot be tested here, or undefined when it can. */
function tlsUnsupported(): string | undefined {
  if (!redisInstalled) return 'redis-server is not installed';
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) return 'openssl is not installed';
  // A TLS build accepts the directive (and exits: it was told to listen nowhere); others reject it.
  const probe = spawnSync('redis-server', ['--port', '0', '--tls-port', '0'], { encoding: 'utf8', timeout: 5000 });
  if (/Bad directive|wrong number of arguments/i.test(`${probe.stdout}${probe.stderr}`)) return 'this redis-server was built without TLS';
  return undefined;
}

const unsupported = tlsUnsupported();
if (unsupported !== undefined) console.warn(`\n!!! SKIPPING the cluster TLS tests: ${unsupported} !!!\n`);

/** A throwaway CA and a certificate for localhost/127.0.0.1 signed by it. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore', timeout: 30_000 });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '1', '-subj', '/CN=tributary-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(at('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '1', '-extfile', at('ext.cnf'));
  return { ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

/** A loopback port free right now (the OS picks it; nothing fixed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(unsupported !== undefined)('cluster: rediss:// (TLS)', () => {
  let dir: string;
  let server: RedisServer;
  let port: number;
  let ca: string;
  const nodes: NodeProcess[] = [];
  const coordinators: ClusterCoordinator[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-tls-'));
    const files = makeCertificates(dir);
    ca = files.ca;
    port = await freePort();
    // TLS only on 127.0.0.1 (plain TCP stays off: --port 0); the harness's Unix socket tells when it is up.
    server = await startRedis(['--bind', '127.0.0.1', '--tls-port', String(port), '--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-cert-file', files.ca, '--tls-auth-clients', 'no']);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(coordinators.map((c) => c.close()));
    await Promise.all(nodes.map(kill9));
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('a node started with --connection rediss://localhost:<port> runs a stream for a coordinator on TLS', async () => {
    const node = await startNode(['--connection', `rediss://localhost:${port}`, '--name', 'tls', '--threads', '1', '--allow', STREAMS_ROOT], { NODE_EXTRA_CA_CERTS: ca });
    nodes.push(node);
    const c = new ClusterCoordinator({ connection: { host: 'localhost', port, tls: { ca: readFileSync(ca) } }, name: 'tls' });
    coordinators.push(c);
    const [result] = await c.executeParallel([{ id: 'over-tls', task: clusterStream('echo.mjs'), input: { secret: 'in transit' } }], { timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'complete', value: { input: { secret: 'in transit' } } });
    expect((result!.value as { pid: number }).pid).toBe(node.child.pid);
  });

  it('the control: without the CA the certificate is refused, and plain redis:// gets no answer from the TLS port', async () => {
    const untrusting = openRedis({ host: 'localhost', port, tls: {}, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    const errors: Error[] = [];
    untrusting.on('error', (e: Error) => errors.push(e));
    await expect(untrusting.connect()).rejects.toThrow();
    untrusting.disconnect();
    expect(errors.map((e) => e.message).join('; ')).toMatch(/self[- ]signed|unable to verify|certificate/i);
    const plain = openRedis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, commandTimeout: 2000, lazyConnect: true });
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
    plain.disconnect();
  });
});
