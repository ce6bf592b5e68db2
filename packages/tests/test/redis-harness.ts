/**
 * The cluster tests' Redis: a real `redis-server` each test file starts on a Unix socket in a
 * temporary directory (no TCP port: `--port 0`), without persistence, and stops at the end.
 *
 * Without `redis-server` the cluster suites are skipped with a loud line saying how to install
 * it, unless TRIBUTARY_REQUIRE_REDIS=1 (CI), which makes them fail instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

/** Whether a `redis-server` binary is on the PATH. */
export const redisInstalled = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

const INSTALL_HINT = 'install it with: apt-get update && apt-get install -y redis-server (Debian/Ubuntu) or brew install redis (macOS)';

/**
 * `describe` for suites that need Redis: skipped (loudly) without redis-server, failed instead
 * when TRIBUTARY_REQUIRE_REDIS=1.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (redisInstalled) {
    describe(name, body);
    return;
  }
  if (process.env.TRIBUTARY_REQUIRE_REDIS === '1') {
    describe(name, () => {
      it('needs redis-server', () => {
        throw new Error(`redis-server is not installed and TRIBUTARY_REQUIRE_REDIS=1; ${INSTALL_HINT}`);
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPING "${name}": redis-server is not installed; ${INSTALL_HINT} !!!\n`);
  describe.skip(name, body);
}

/** A running redis-server on a private Unix socket. */
export interface RedisServer {
  /** The socket path (what `connection` options take). */
  readonly socket: string;
  /** Kills the server (-9, losing every key: there is no persistence) and starts a fresh one on the same socket. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Starts redis-server on a socket in a fresh temporary directory; `args` adds options (e.g. `--requirepass x`). */
export async function startRedis(args: readonly string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-redis-'));
  const socket = join(dir, 'redis.sock');
  let server = await spawnServer(dir, socket, args);
  return {
    socket,
    async restart() {
      await server.kill();
      server = await spawnServer(dir, socket, args);
    },
    async stop() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function spawnServer(dir: string, socket: string, args: readonly string[]): Promise<{ kill(): Promise<void> }> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await kill();
      throw new Error(`redis-server did not start on ${socket} within 10 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { kill };
}

function accepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
