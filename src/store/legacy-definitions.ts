import { readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DefinitionsLogError } from './definitions-codec.js';
import { syncDirectory } from './segment.js';

/**
 * `definitions.json`: where Warren kept its definitions before the log, as one RabbitMQ-format
 * document. Found without a log, it is imported once (the same document `GET /api/definitions`
 * exports, so an operator can also put one there to rebuild a lost log) and then renamed aside.
 */
export async function readLegacyDefinitions(path: string): Promise<{ document: unknown } | undefined> {
  // The old writer replaced the file by rename, so a crash could only leave its temp file behind.
  await rm(`${path}.tmp`, { force: true });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return { document: JSON.parse(text) as unknown };
  } catch (error) {
    throw new DefinitionsLogError(
      `cannot import ${path}: it is not valid JSON (${(error as Error).message}). Warren imports this file on start ` +
        'when there is no definitions.log yet. Restore it from a backup, or replace it with an export of the ' +
        'definitions (GET /api/definitions, RabbitMQ format). Moving it away starts without these definitions: ' +
        'as a first start if the message store is empty, and not at all if it holds messages.',
      path,
    );
  }
}

/** The import is in the log and on disk: the document is kept, renamed, so it is not imported again. */
export async function retireLegacyDefinitions(path: string): Promise<string> {
  const retired = `${path}.migrated`;
  await rename(path, retired);
  await syncDirectory(dirname(path));
  return retired;
}
