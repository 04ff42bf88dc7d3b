/**
 * A race across processes, for tests: spawnBurst starts a burst script (reserve-burst.ts, admit-burst.ts) in a
 * process of its own; `ready` resolves when it has connected, go() releases its burst, and `done` gives the
 * JSON line it prints at the end.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export type Burst<T> = { ready: Promise<void>; go: () => void; done: Promise<T> };

/** Runs `script` (a path) with tsx and `args`. */
export function spawnBurst<T>(script: string, args: string[]): Burst<T> {
  const name = path.basename(script, '.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  let buffered = '';
  let onReady: () => void = () => {};
  let onResult: (line: string) => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<string>((resolve) => (onResult = resolve));
  child.stdout.on('data', (d) => {
    buffered += String(d);
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) onResult(line);
    }
  });
  const exited = new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}: ${stderr}`)))));
  return {
    ready: Promise.race([ready, exited.then(() => Promise.reject(new Error(`${name} ended early: ${stderr}`)))]),
    go: () => child.stdin.end('go\n'),
    done: Promise.all([result, exited]).then(([line]) => JSON.parse(line) as T),
  };
}
