import type { CaptureStatus } from '../api/types';

/**
 * The event contract: every topic role, the variable that names its topic and the default name,
 * the event (Avro schema) it carries, and for an outcome topic the result status it reports.
 * The retry topic carries the request itself; the DLQ carries the refused record's bytes as
 * they came, so it has no schema. Everything that maps roles, events, topics or subjects reads
 * this table.
 */
export const TOPIC_CONTRACT = {
  requested: { variable: 'TOPIC_REQUESTED', topic: 'payments.capture.requested', event: 'CaptureRequested' },
  retry: { variable: 'TOPIC_RETRY', topic: 'payments.capture.retry', event: 'CaptureRequested' },
  succeeded: { variable: 'TOPIC_SUCCEEDED', topic: 'payments.capture.succeeded', event: 'CaptureSucceeded', status: 'S' },
  failed: { variable: 'TOPIC_FAILED', topic: 'payments.capture.failed', event: 'CaptureFailed', status: 'F' },
  unknown: { variable: 'TOPIC_UNKNOWN', topic: 'payments.capture.unknown', event: 'CaptureUnknown', status: 'U' },
  dlq: { variable: 'TOPIC_DLQ', topic: 'payments.capture.dlq' },
} as const satisfies Record<string, { variable: `TOPIC_${string}`; topic: string; event?: string; status?: CaptureStatus }>;

type Contract = typeof TOPIC_CONTRACT;
export type TopicRole = keyof Contract;
export type TopicNames = Record<TopicRole, string>;
export type TopicVariable = Contract[TopicRole]['variable'];
/** The roles whose topics carry Avro events. */
export type EventRole = { [R in TopicRole]: Contract[R] extends { event: string } ? R : never }[TopicRole];
export type EventName = Contract[EventRole]['event'];
export type OutcomeRole = { [R in TopicRole]: Contract[R] extends { status: CaptureStatus } ? R : never }[TopicRole];

export const TOPIC_ROLES = Object.keys(TOPIC_CONTRACT) as TopicRole[];
export const EVENT_ROLES = TOPIC_ROLES.filter((role): role is EventRole => 'event' in TOPIC_CONTRACT[role]);
export const OUTCOME_ROLES = TOPIC_ROLES.filter((role): role is OutcomeRole => 'status' in TOPIC_CONTRACT[role]);
export const EVENT_NAMES: EventName[] = [...new Set(EVENT_ROLES.map((role) => TOPIC_CONTRACT[role].event))];

/** Where a record ends up: an outcome topic, or the DLQ. */
export type Disposition = OutcomeRole | 'dlq';
export const DISPOSITIONS: readonly Disposition[] = [...OUTCOME_ROLES, 'dlq'];

/** The outcome topics and the DLQ under these names: what readers of a run's results read. */
export function dispositionTopics(topics: TopicNames): string[] {
  return DISPOSITIONS.map((role) => topics[role]);
}

/** The disposition a topic stands for; undefined for the requested, retry and tier topics. */
export function dispositionOf(topics: TopicNames, topic: string): Disposition | undefined {
  return DISPOSITIONS.find((role) => topics[role] === topic);
}

/** The outcome role that reports a result status. */
export function outcomeRole(status: CaptureStatus): OutcomeRole {
  return OUTCOME_ROLES.find((role) => TOPIC_CONTRACT[role].status === status)!;
}

/** Confluent's TopicNameStrategy: a topic's value schemas live under `<topic>-value`. */
export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

/** Each subject and the event registered under it, for these topic names. */
export function eventSubjects(topics: TopicNames): Array<{ subject: string; name: EventName }> {
  return EVENT_ROLES.map((role) => ({ subject: subjectFor(topics[role]), name: TOPIC_CONTRACT[role].event }));
}

/** The outcome topics under these names. */
export function outcomeTopics(topics: TopicNames): string[] {
  return OUTCOME_ROLES.map((role) => topics[role]);
}

/** Topic names from the TOPIC_* variables, defaults for those unset. */
export function topicNamesFrom(env: Partial<Record<TopicVariable, string>>): TopicNames {
  return roleMap((role) => env[TOPIC_CONTRACT[role].variable] || TOPIC_CONTRACT[role].topic);
}

/** `<prefix>.<role>` for every role: topics of a run or test of their own. */
export function prefixedTopics(prefix: string): TopicNames {
  return roleMap((role) => `${prefix}.${role}`);
}

/** The TOPIC_* variables that name these topics, for a worker's environment. */
export function topicEnv(topics: TopicNames): Record<TopicVariable, string> {
  return Object.fromEntries(TOPIC_ROLES.map((role) => [TOPIC_CONTRACT[role].variable, topics[role]])) as Record<TopicVariable, string>;
}

/** The role a topic plays under these names; undefined for a topic of none (a retry tier's). */
export function roleOf(topics: TopicNames, topic: string): TopicRole | undefined {
  return TOPIC_ROLES.find((role) => topics[role] === topic);
}

function roleMap(name: (role: TopicRole) => string): TopicNames {
  return Object.fromEntries(TOPIC_ROLES.map((role) => [role, name(role)])) as TopicNames;
}
