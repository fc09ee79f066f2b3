/** Fixed business metric names (alarms in lib/constructs/monitoring.ts use some of them). */
export const MetricName = {
  EventsReceived: 'EventsReceived',
  RecordsFailed: 'RecordsFailed',
  DuplicateEventsSkipped: 'DuplicateEventsSkipped',
  WebhooksAccepted: 'WebhooksAccepted',
  WebhooksRejected: 'WebhooksRejected',
  Findings: 'Findings',
  KeysCleared: 'KeysCleared',
  TicketsOpened: 'TicketsOpened',
  NotificationsFailed: 'NotificationsFailed',
  SweepFixErrors: 'SweepFixErrors',
} as const;
