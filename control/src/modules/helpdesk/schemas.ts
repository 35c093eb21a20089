import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { StringEnum, Timestamps, VersionField, nullable } from '../routing/common.ts';

/** `T | null` in answers. */
const orNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

// ------------------------------------------------------------------ contacts

export const E164 = Type.String({
  pattern: '^\\+[1-9][0-9]{1,14}$',
  description: 'E.164: + then up to 15 digits',
});
const Email = Type.String({ format: 'email', maxLength: 254 });

const PhoneBody = Type.Object(
  { number: E164, label: Type.Optional(Type.String({ maxLength: 40 })) },
  { additionalProperties: false },
);
const contactFields = {
  firstName: Type.String({ maxLength: 120 }),
  lastName: Type.String({ maxLength: 120 }),
  company: Type.String({ maxLength: 200 }),
  notes: nullable(Type.String({ maxLength: 10_000 })),
  phones: Type.Array(PhoneBody, { maxItems: 20 }),
  emails: Type.Array(Email, { maxItems: 20 }),
};
const optional = <T extends Record<string, TSchema>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof T]: TOptional<T[K]>;
  };

export const ContactCreate = Type.Object(optional(contactFields), {
  additionalProperties: false,
  description: 'At least one of firstName, lastName or company.',
});
export type ContactCreate = Static<typeof ContactCreate>;
export const ContactPatch = Type.Object(
  { ...optional(contactFields), version: VersionField },
  { additionalProperties: false },
);
export type ContactPatch = Static<typeof ContactPatch>;

export const Contact = Type.Object({
  id: Type.Integer(),
  firstName: Type.String(),
  lastName: Type.String(),
  company: Type.String(),
  notes: orNull(Type.String()),
  phones: Type.Array(Type.Object({ number: Type.String(), label: Type.String() })),
  emails: Type.Array(Type.String()),
  ...Timestamps,
});
export type Contact = Static<typeof Contact>;
export const ContactList = listResponse(Contact);
export const ContactListQuery = listQuery({
  q: Type.Optional(Type.String({ maxLength: 120, description: 'Name or company contains' })),
  phone: Type.Optional(E164),
  email: Type.Optional(Type.String({ maxLength: 254 })),
});
export type ContactListQuery = Static<typeof ContactListQuery>;

export const ContactImportJson = Type.Object(
  { csv: Type.String({ maxLength: 5 * 1024 * 1024 }) },
  { additionalProperties: false },
);
export const ImportResult = Type.Object({
  imported: Type.Integer(),
  contactIds: Type.Array(Type.Integer()),
  errors: Type.Array(
    Type.Object({
      line: Type.Integer(),
      errors: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    }),
  ),
});
export type ImportResult = Static<typeof ImportResult>;

// ------------------------------------------------------------------ tickets

export const STATUSES = ['new', 'open', 'pending', 'solved', 'closed'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const Status = StringEnum(STATUSES);
export const Priority = StringEnum(PRIORITIES);
export const SlaStateSchema = StringEnum(['none', 'ok', 'at_risk', 'breached'] as const);
export const SOURCE_KINDS = ['call', 'voicemail', 'chat', 'offline_form', 'ticket'] as const;
export const SourceKind = StringEnum(SOURCE_KINDS);

const Tag = Type.String({
  pattern: '^[^,\\s][^,]{0,39}$',
  description: 'No commas, 1-40 characters',
});
const Tags = Type.Array(Tag, { maxItems: 30, uniqueItems: true });
/**
 * A custom value: string, number, boolean or null, checked against its definition by the
 * service. Not a schema union: the request coercion would turn 3 into "3" for the first branch.
 */
export const FieldValue = Type.Unknown({
  description: 'string, number, boolean or null, per the field’s type',
});
export const CustomValues = Type.Record(Type.String({ maxLength: 40 }), FieldValue, {
  maxProperties: 100,
  description: 'Values of the tenant’s custom fields, by key',
});
export type CustomValues = Record<string, string | number | boolean | null>;

const Id = Type.Integer({ minimum: 1 });
const ticketFields = {
  subject: Type.String({ minLength: 1, maxLength: 250 }),
  requesterContactId: nullable(Id),
  status: Status,
  priority: Priority,
  assigneeUserId: nullable(Id),
  groupId: nullable(Type.Integer({ minimum: 1, description: 'The queue that owns the ticket' })),
  tags: Tags,
  customFields: CustomValues,
};
const FirstMessage = Type.Object(
  {
    kind: StringEnum(['public', 'internal'] as const),
    body: Type.String({ minLength: 1, maxLength: 100_000 }),
  },
  { additionalProperties: false },
);

export const TicketCreate = Type.Object(
  {
    ...optional(ticketFields),
    subject: ticketFields.subject,
    message: Type.Optional(FirstMessage),
  },
  { additionalProperties: false },
);
export type TicketCreate = Static<typeof TicketCreate>;
export const TicketPatch = Type.Object(
  { ...optional(ticketFields), version: VersionField },
  { additionalProperties: false },
);
export type TicketPatch = Static<typeof TicketPatch>;

const Link = Type.Object({ kind: Type.String(), sourceId: Type.String() });
export const Ticket = Type.Object({
  id: Type.Integer(),
  subject: Type.String(),
  requesterContactId: orNull(Type.Integer()),
  status: Type.String(),
  priority: Type.String(),
  assigneeUserId: orNull(Type.Integer()),
  groupId: orNull(Type.Integer()),
  tags: Type.Array(Type.String()),
  customFields: CustomValues,
  source: orNull(Link),
  mergedIntoTicketId: orNull(Type.Integer()),
  createdByUserId: orNull(Type.Integer()),
  firstResponseDueAt: orNull(DateTime),
  resolutionDueAt: orNull(DateTime),
  firstRespondedAt: orNull(DateTime),
  solvedAt: orNull(DateTime),
  closedAt: orNull(DateTime),
  firstResponseBreachedAt: orNull(DateTime),
  resolutionBreachedAt: orNull(DateTime),
  slaState: SlaStateSchema,
  ...Timestamps,
});
export type Ticket = Static<typeof Ticket>;
export const TicketDetail = Type.Composite([Ticket, Type.Object({ links: Type.Array(Link) })]);
export type TicketDetail = Static<typeof TicketDetail>;

export const ticketFilters = {
  status: Type.Optional(Status),
  priority: Type.Optional(Priority),
  assigneeUserId: Type.Optional(Type.Integer({ minimum: 0, description: '0: unassigned' })),
  groupId: Type.Optional(Type.Integer({ minimum: 1 })),
  tag: Type.Optional(Type.String({ maxLength: 40 })),
  slaState: Type.Optional(SlaStateSchema),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Text in the subject or any message',
    }),
  ),
  contactId: Type.Optional(Type.Integer({ minimum: 1, description: 'Requester' })),
  sourceKind: Type.Optional(SourceKind),
  sourceId: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'With sourceKind: tickets linked to that call, chat…',
    }),
  ),
};
export const TicketFilters = Type.Object(ticketFilters, { additionalProperties: false });
export type TicketFilters = Static<typeof TicketFilters>;
export const TicketListQuery = listQuery({
  ...ticketFilters,
  viewId: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'Start from one of your saved views’ filters (a view that is not yours matches nothing)',
    }),
  ),
});
export type TicketListQuery = Static<typeof TicketListQuery>;
export const TicketList = listResponse(Ticket);

export const Message = Type.Object({
  id: Type.Integer(),
  ticketId: Type.Integer(),
  kind: Type.String(),
  channel: Type.String(),
  authorUserId: orNull(Type.Integer()),
  authorContactId: orNull(Type.Integer()),
  body: Type.String(),
  movedFromTicketId: orNull(Type.Integer()),
  attachmentIds: Type.Array(Type.Integer()),
  createdAt: DateTime,
});
export type Message = Static<typeof Message>;
export const MessageCreate = Type.Object(
  {
    kind: StringEnum(['public', 'internal'] as const, {
      description: 'A reply the customer sees, or a note for staff',
    }),
    body: Type.String({ minLength: 1, maxLength: 100_000 }),
    attachmentIds: Type.Optional(Type.Array(Id, { maxItems: 20, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type MessageCreate = Static<typeof MessageCreate>;

export const HistoryEntry = Type.Object({
  id: Type.Integer(),
  actorUserId: orNull(Type.Integer()),
  action: Type.String(),
  field: orNull(Type.String()),
  oldValue: Type.Unknown(),
  newValue: Type.Unknown(),
  createdAt: DateTime,
});

export const Attachment = Type.Object({
  id: Type.Integer(),
  ticketId: Type.Integer(),
  messageId: orNull(Type.Integer()),
  fileName: Type.String(),
  contentType: Type.String(),
  sizeBytes: Type.Integer(),
  sha256: Type.String(),
  uploadedByUserId: orNull(Type.Integer()),
  createdAt: DateTime,
});
export type Attachment = Static<typeof Attachment>;

export const MergeBody = Type.Object(
  { targetTicketId: Type.Integer({ minimum: 1, description: 'The ticket that absorbs this one' }) },
  { additionalProperties: false },
);
export const BulkBody = Type.Object(
  {
    ticketIds: Type.Array(Id, { minItems: 1, maxItems: 200, uniqueItems: true }),
    action: StringEnum(['assign', 'close'] as const),
    assigneeUserId: Type.Optional(nullable(Id)),
  },
  { additionalProperties: false },
);
export type BulkBody = Static<typeof BulkBody>;

const fromOptions = {
  subject: Type.Optional(ticketFields.subject),
  priority: Type.Optional(Priority),
  assigneeUserId: Type.Optional(nullable(Id)),
  groupId: Type.Optional(nullable(Id)),
  tags: Type.Optional(Tags),
  note: Type.Optional(
    Type.String({ maxLength: 20_000, description: 'An internal note to start the thread' }),
  ),
};
export const FromCallBody = Type.Object(
  { callId: Type.Integer({ minimum: 1, description: 'The CDR row (calls.id)' }), ...fromOptions },
  { additionalProperties: false },
);
export type FromCallBody = Static<typeof FromCallBody>;
export const FromVoicemailBody = Type.Object(
  { voicemailId: Id, ...fromOptions },
  { additionalProperties: false },
);
export type FromVoicemailBody = Static<typeof FromVoicemailBody>;
export const FromChatBody = Type.Object(
  {
    chatId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }),
    transcript: Type.Array(
      Type.Object(
        {
          from: StringEnum(['visitor', 'agent', 'system'] as const),
          name: Type.Optional(Type.String({ maxLength: 120 })),
          text: Type.String({ maxLength: 10_000 }),
          at: Type.Optional(DateTime),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 2000 },
    ),
    requesterContactId: Type.Optional(nullable(Id)),
    email: Type.Optional(Email),
    phone: Type.Optional(E164),
    ...fromOptions,
  },
  { additionalProperties: false },
);
export type FromChatBody = Static<typeof FromChatBody>;
export const OfflineFormBody = Type.Object(
  {
    submissionId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }),
    ),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Email),
    phone: Type.Optional(E164),
    subject: Type.Optional(ticketFields.subject),
    message: Type.String({ minLength: 1, maxLength: 20_000 }),
  },
  { additionalProperties: false },
);
export type OfflineFormBody = Static<typeof OfflineFormBody>;

// ------------------------------------------------------------------ SLA, fields, views

const Minutes = Type.Integer({
  minimum: 1,
  maximum: 525_600,
  description: 'Business-hours minutes',
});
export const SlaPolicyCreate = Type.Object(
  {
    priority: Priority,
    firstResponseMinutes: Minutes,
    resolutionMinutes: Minutes,
    businessHoursId: Type.Optional(
      nullable(
        Type.Integer({
          minimum: 1,
          description: 'Schedule the minutes are counted on; null = around the clock',
        }),
      ),
    ),
  },
  { additionalProperties: false },
);
export type SlaPolicyCreate = Static<typeof SlaPolicyCreate>;
export const SlaPolicyPatch = Type.Object(
  {
    firstResponseMinutes: Type.Optional(Minutes),
    resolutionMinutes: Type.Optional(Minutes),
    businessHoursId: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
    version: VersionField,
  },
  { additionalProperties: false },
);
export type SlaPolicyPatch = Static<typeof SlaPolicyPatch>;
export const SlaPolicy = Type.Object({
  id: Type.Integer(),
  priority: Type.String(),
  firstResponseMinutes: Type.Integer(),
  resolutionMinutes: Type.Integer(),
  businessHoursId: orNull(Type.Integer()),
  ...Timestamps,
});
export type SlaPolicy = Static<typeof SlaPolicy>;

export const FIELD_TYPES = ['text', 'number', 'boolean', 'date', 'select'] as const;
export const TicketFieldCreate = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$' }),
    label: Type.String({ minLength: 1, maxLength: 120 }),
    type: StringEnum(FIELD_TYPES),
    options: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 120 }), {
        maxItems: 200,
        uniqueItems: true,
      }),
    ),
    required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TicketFieldCreate = Static<typeof TicketFieldCreate>;
export const TicketFieldPatch = Type.Object(
  {
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    options: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 120 }), {
        maxItems: 200,
        uniqueItems: true,
      }),
    ),
    required: Type.Optional(Type.Boolean()),
    version: VersionField,
  },
  { additionalProperties: false },
);
export type TicketFieldPatch = Static<typeof TicketFieldPatch>;
export const TicketField = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  label: Type.String(),
  type: Type.String(),
  options: Type.Array(Type.String()),
  required: Type.Boolean(),
  ...Timestamps,
});
export type TicketField = Static<typeof TicketField>;

export const ViewCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 120 }), filters: TicketFilters },
  { additionalProperties: false },
);
export type ViewCreate = Static<typeof ViewCreate>;
export const ViewPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    filters: Type.Optional(TicketFilters),
    version: VersionField,
  },
  { additionalProperties: false },
);
export type ViewPatch = Static<typeof ViewPatch>;
export const View = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  filters: TicketFilters,
  ...Timestamps,
});
export type View = Static<typeof View>;

// ------------------------------------------------------------------ screen-pop, reports

export const ScreenPopQuery = Type.Object(
  { phone: Type.Optional(E164), email: Type.Optional(Type.String({ maxLength: 254 })) },
  { additionalProperties: false },
);
const RecentCall = Type.Object({
  id: Type.Integer(),
  direction: Type.String(),
  fromNumber: orNull(Type.String()),
  toNumber: orNull(Type.String()),
  startedAt: DateTime,
  talkMs: Type.Integer(),
  agentUserId: orNull(Type.Integer()),
});
export const ScreenPop = listResponse(
  Type.Object({
    contact: Contact,
    recentTickets: Type.Array(Ticket),
    recentCalls: Type.Array(RecentCall),
  }),
);

export const ReportQuery = Type.Object(
  { from: DateTime, to: DateTime },
  { additionalProperties: false },
);
const Durations = Type.Object({
  count: Type.Integer(),
  medianMinutes: orNull(Type.Number()),
  avgMinutes: orNull(Type.Number()),
});
const Metrics = {
  created: Type.Integer(),
  solved: Type.Integer(),
  backlog: Type.Integer({ description: 'Not solved or closed at the end of the range' }),
  firstResponse: Durations,
  resolution: Durations,
  slaAchievementPercent: orNull(
    Type.Number({
      description: 'Of tickets solved in the range that had targets: % that met all of them',
    }),
  ),
};
export const Report = Type.Object({
  from: DateTime,
  to: DateTime,
  ...Metrics,
  perAssignee: Type.Array(Type.Object({ assigneeUserId: orNull(Type.Integer()), ...Metrics })),
});
export type Report = Static<typeof Report>;
