// Every AMQP error scenario, in the order they are recorded and replayed.
import { CHANNEL_SCENARIOS } from './error-scenarios-channel.js';
import type { Scenario } from './error-scenarios.js';
import { WIRE_SCENARIOS } from './error-scenarios-wire.js';

export const SCENARIOS: readonly Scenario[] = [...CHANNEL_SCENARIOS, ...WIRE_SCENARIOS];
