import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startWarren, type RunningWarren } from './warren.js';

export interface DataDirs {
  /** A fresh temp dir, removed after the test. */
  tempDir(): string;
  /** A broker on `dataDir`, stopped after the test unless `stop`ped before. */
  start(dataDir: string, overrides?: Parameters<typeof startWarren>[0], options?: Parameters<typeof startWarren>[1]): Promise<RunningWarren>;
  stop(warren: RunningWarren): Promise<void>;
}

/**
 * Temp data dirs and in-process brokers on them, for restart tests: whatever a test leaves running or
 * on disk is cleaned up after it. Call at the top level of a test file.
 */
export function useDataDirs(prefix: string): DataDirs {
  const dirs: string[] = [];
  const running: RunningWarren[] = [];
  afterEach(async () => {
    for (const warren of running.splice(0)) await warren.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    tempDir() {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    async start(dataDir, overrides = {}, options = {}) {
      const warren = await startWarren({ ...overrides, dataDir }, options);
      running.push(warren);
      return warren;
    },
    async stop(warren) {
      running.splice(running.indexOf(warren), 1);
      await warren.stop();
    },
  };
}
