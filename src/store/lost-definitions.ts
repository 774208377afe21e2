import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { readSegments } from './read-segments.js';
import { REF_SETTLED } from './record-codec.js';
import { silentLog } from './store-log.js';

/** Queues named in the error; the rest are counted. */
const NAMED_QUEUES = 5;

/**
 * The data dir holds stored messages but the definitions they belong to are gone. Starting would
 * look like a first start — no queues, so nothing to refill them into, and a default user in place of
 * the real ones — so the start stops instead, with the data dir untouched.
 */
export class LostDefinitionsError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'LostDefinitionsError';
  }
}

/** What the message store holds, read without changing a byte. */
export interface StoredMessages {
  /** Segment files holding at least one record. */
  readonly segmentFiles: number;
  readonly messages: number;
  /** Most messages first. */
  readonly queues: ReadonlyArray<{ readonly vhost: string; readonly name: string; readonly messages: number }>;
}

export async function surveyStoredMessages(messagesDir: string): Promise<StoredMessages> {
  try {
    await access(messagesDir);
  } catch {
    return { segmentFiles: 0, messages: 0, queues: [] };
  }
  const { segments, index } = await readSegments(messagesDir, silentLog, { readOnly: true });
  await Promise.all(segments.map((segment) => segment.handle?.close()));
  const counts = index.queueNames.map(() => 0);
  let messages = 0;
  index.finish((record) => {
    messages++;
    record.queues.forEach((key, q) => {
      if (((record.flags[q] as number) & REF_SETTLED) === 0) counts[key] = (counts[key] as number) + 1;
    });
  });
  const queues = index.queueNames
    .map(({ vhost, name }, key) => ({ vhost, name, messages: counts[key] as number }))
    .filter((queue) => queue.messages > 0)
    .sort((a, b) => b.messages - a.messages);
  return { segmentFiles: segments.filter((segment) => segment.size > 0).length, messages, queues };
}

/**
 * `missing`: neither the log nor a definitions.json to import. `empty`: a log with no records in it.
 * The message says what is missing, what is there, and the two ways back.
 */
export function lostDefinitionsError(dataDir: string, logPath: string, why: 'missing' | 'empty', stored: StoredMessages): LostDefinitionsError {
  const messagesDir = join(dataDir, 'messages');
  const what =
    why === 'missing'
      ? `${logPath} is missing, and there is no definitions.json to import in its place`
      : `${logPath} is empty`;
  const files = `${stored.segmentFiles} segment file${stored.segmentFiles === 1 ? '' : 's'} in ${messagesDir}`;
  const held =
    stored.messages > 0
      ? `the message store holds ${stored.messages} message${stored.messages === 1 ? '' : 's'} in ${files}, for ${describeQueues(stored)}`
      : `the message store has ${files} (no message in them is still queued)`;
  return new LostDefinitionsError(
    `the data dir holds stored messages but its definitions are lost: ${what}, yet ${held}. ` +
      'Without the definitions there are no queues to put these messages back into, and the vhosts, users and ' +
      'permissions are gone too; starting would look like a first start. Nothing in the data dir has been changed. ' +
      `To restore: put definitions.log back in ${dataDir} from a backup; or place an export of the definitions ` +
      `(GET /api/definitions, rabbitmqadmin export, RabbitMQ's format) in ${dataDir} as definitions.json` +
      `${why === 'empty' ? ' and move the empty definitions.log away' : ''}: Warren imports it at start, before it ` +
      'puts the stored messages back into their queues (a queue the export lacks is restored as a plain durable ' +
      `queue). To start afresh instead and discard these messages, move ${messagesDir} away.`,
    logPath,
  );
}

function describeQueues(stored: StoredMessages): string {
  const named = stored.queues.slice(0, NAMED_QUEUES).map((q) => `queue '${q.name}' in vhost '${q.vhost}' (${q.messages})`);
  const more = stored.queues.length - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more queue${more === 1 ? '' : 's'}` : named.join(', ');
}
