/** Helpers for tests that run fixtures as separate OS processes (file locks across processes). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fixture } from './helpers.js';

/** Spawns a fixture script as a plain node process. */
export function node(script: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [fixture(script).pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the exit code; rejects after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs = 30_000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error('child process did not exit in time')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Resolves with everything printed so far once the child prints `line`; rejects after `timeoutMs`. */
export function printed(child: ChildProcess, line: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child never printed ${line}`)), timeoutMs);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(line)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
}
