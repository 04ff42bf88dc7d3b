/**
 * A multi-process rate-limit race for tests: spawnBurst starts admit-burst.ts in a process of its own, ready
 * when it has connected; go() releases its burst of admissions; done gives what it admitted and refused.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');

export type Burst = { ready: Promise<void>; go: () => void; done: Promise<{ admitted: number; refused: number }> };

export function spawnBurst(args: string[]): Burst {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'admit-burst.ts'), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
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
  const exited = new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`admit-burst exited with ${code}: ${stderr}`)))));
  return {
    ready: Promise.race([ready, exited.then(() => Promise.reject(new Error(`admit-burst ended early: ${stderr}`)))]),
    go: () => child.stdin.end('go\n'),
    done: Promise.all([result, exited]).then(([line]) => JSON.parse(line)),
  };
}
