import type { Broker } from '../broker/broker.js';
import { Message } from '../broker/message.js';
import { exchangeOfHolder } from '../broker/scheduled-messages.js';
import type { ErrorLog } from './definitions-log.js';
import type { RecoveredMessage } from './recovered-queues.js';

/** Contents read back per batch: enough to keep the disk busy, few enough to keep memory flat while reading. */
const BATCH = 4096;

/**
 * Gives durable delayed exchanges back the messages they had scheduled. The store keeps them as if an
 * internal queue held them (`scheduleHolderName`), so recovery returned them among the queues; they are
 * taken out of `queues` here. Their contents are read back (a scheduled message is routed from memory,
 * and its `x-delay` header, with its publish time, gives its due time). A message that fell due while the
 * broker was down is due at once, and is routed once the broker has started (the StartupClock holds the
 * timer until then). Returns how many were restored.
 *
 * Scheduled messages of an exchange the definitions do not have stay in the store, logged, as a queue's do.
 */
export async function restoreScheduled(broker: Broker, queues: Map<string, Map<string, RecoveredMessage[]>>, log: ErrorLog): Promise<number> {
  let restored = 0;
  for (const [vhostName, byName] of queues) {
    for (const [holderName, recovered] of byName) {
      const exchangeName = exchangeOfHolder(holderName);
      if (exchangeName === undefined) continue;
      byName.delete(holderName);
      const scheduled = broker.vhosts.get(vhostName)?.exchanges.get(exchangeName)?.scheduled;
      if (!scheduled) {
        log.error(
          { vhost: vhostName, exchange: exchangeName, messages: recovered.length },
          `cannot put ${recovered.length} scheduled messages back into delayed exchange '${exchangeName}' in vhost '${vhostName}': ` +
            'the definitions have no such x-delayed-message exchange. They stay in the message store; a start that has it gets them back',
        );
        continue;
      }
      let unreadable = 0;
      for (let at = 0; at < recovered.length; at += BATCH) {
        const messages = recovered.slice(at, at + BATCH).map((r) => r.message);
        await Message.readBack(messages);
        for (const message of messages) {
          if (message.inMemory) scheduled.restore(message);
          else unreadable++;
        }
      }
      restored += recovered.length - unreadable;
      if (unreadable > 0) {
        log.error(
          { vhost: vhostName, exchange: exchangeName, unreadable },
          `${unreadable} scheduled messages of delayed exchange '${exchangeName}' in vhost '${vhostName}' could not be read back; they stay in the message store`,
        );
      }
    }
    if (byName.size === 0) queues.delete(vhostName);
  }
  return restored;
}
