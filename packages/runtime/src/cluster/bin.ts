#!/usr/bin/env node
/**
 * `tributary-node`: runs a {@link ClusterNode} until SIGTERM or SIGINT.
 *
 *     tributary-node --connection redis://host:6379 --name render --threads 8 --allow ./streams --allow @acme/render
 *
 * The connection may instead come from TRIBUTARY_REDIS_URL, and a password from
 * TRIBUTARY_REDIS_PASSWORD (for a socket path, or to keep it out of a URL): both keep the secret
 * out of the process list. Events are printed as JSON lines on stdout; errors on stderr, credentials redacted.
 */
import { parseArgs } from 'node:util';
import { redact, type ConnectionOption } from './connection.js';
import { ClusterNode } from './node.js';

const USAGE = `usage: tributary-node --connection <redis-url|socket-path> [--name <queue>] [--threads <n>] [--allow <dir|package>]...
       [--lock-ms <ms>] [--lease-ms <ms>] [--grace-ms <ms>] [--prefix <prefix>] [--shared-root <dir>]
  --connection  redis://[user:password@]host:port, rediss://... (TLS) or a Unix socket path;
                or set TRIBUTARY_REDIS_URL; a password can come from TRIBUTARY_REDIS_PASSWORD
                (both keep the secret out of the process list)
  --allow       a directory of stream modules or a package name this node may run (repeatable);
                without any, only the built-in simulate stream runs
  --shared-root this host's path to the file system every node shares: ctx.directory is made
                under it, and ctx.fileLocks on files under it key by the path relative to it`;

function fail(message: string): never {
  process.stderr.write(`tributary-node: ${redact(message)}\n${USAGE}\n`);
  process.exit(2);
}

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, got ${value}`);
  return n;
}

/** ioredis options of a redis:// or rediss:// URL (so a password can be added to them). */
function urlOptions(url: string): Record<string, unknown> {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username === '' ? {} : { username: decodeURIComponent(u.username) }),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      connection: { type: 'string' },
      name: { type: 'string' },
      threads: { type: 'string' },
      allow: { type: 'string', multiple: true },
      'lock-ms': { type: 'string' },
      'lease-ms': { type: 'string' },
      'grace-ms': { type: 'string' },
      prefix: { type: 'string' },
      'shared-root': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
}
try {
  values = parse().values;
} catch (error) {
  fail((error as Error).message);
}
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const where = values.connection ?? process.env.TRIBUTARY_REDIS_URL;
if (where === undefined) fail('--connection (or TRIBUTARY_REDIS_URL) is required');
const password = process.env.TRIBUTARY_REDIS_PASSWORD;
const connection: ConnectionOption =
  password === undefined ? where : /^rediss?:\/\//.test(where) ? { ...urlOptions(where), password } : { path: where.replace(/^unix:/, ''), password };
const graceMs = count('grace-ms', values['grace-ms']) ?? 30_000;

const node = new ClusterNode({
  connection,
  name: values.name,
  threads: count('threads', values.threads),
  allow: values.allow ?? [],
  lockDurationMs: count('lock-ms', values['lock-ms']),
  leaseMs: count('lease-ms', values['lease-ms']),
  prefix: values.prefix,
  sharedRoot: values['shared-root'],
  log: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
});

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${JSON.stringify({ event: 'stopping', signal, graceMs })}\n`);
  node.close(graceMs).then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`tributary-node: ${redact(error.message)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

node.start().catch((error: Error) => {
  process.stderr.write(`tributary-node: cannot start: ${redact(error.message)}\n`);
  process.exit(1);
});
