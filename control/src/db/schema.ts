/**
 * Kysely's view of the schema that migrations/ creates. Column names are camelCase here and
 * snake_case in SQL (CamelCasePlugin). Keep this in step with every new migration.
 */
import type { ColumnType, Generated } from 'kysely';

type Id = Generated<number>;
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date | undefined>;
type Version = Generated<number>;
/** MySQL returns JSON parsed; MariaDB (JSON is LONGTEXT there) returns a string: see json.ts. */
type Json = ColumnType<unknown, string, string>;

export type Role = 'platform_admin' | 'tenant_admin' | 'supervisor' | 'agent' | 'helpdesk';
export type TargetType = 'queue' | 'ivr' | 'user' | 'voicemail' | 'hangup' | 'external';
export type QueueStrategy = 'ring_all' | 'longest_idle' | 'round_robin' | 'fewest_calls' | 'skills';
export type CallState =
  | 'ringing'
  | 'ivr'
  | 'queued'
  | 'offered'
  | 'answered'
  | 'held'
  | 'transferred'
  | 'ended';

export interface TenantTable {
  id: Id;
  name: string;
  slug: string;
  status: Generated<'active' | 'suspended'>;
  timezone: Generated<string>;
  maxAgents: Generated<number>;
  maxConcurrentCalls: Generated<number>;
  maxCallsPerSecond: Generated<number>;
  maxCallSeconds: Generated<number>;
  featureFlags: Json;
  /** Country calling code that is home; other codes are international (denied unless allowed). */
  homeCountryCode: Generated<string>;
  /** JSON array of "+<digits>" destination prefixes allowed although international or premium. */
  outboundAllowedPrefixes: Json | null;
  /** Chats one person may hold at once (the capacity model shared with voice). */
  maxChatsPerAgent: Generated<number>;
  /** 1: a person on a call may still be offered new chats. */
  chatDuringCall: Generated<number>;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface UserTable {
  id: Id;
  tenantId: number | null;
  email: string;
  displayName: string;
  role: Role;
  passwordHash: string | null;
  extension: string | null;
  status: Generated<'active' | 'disabled'>;
  outboundAllowed: Generated<number>;
  lastLoginAt: Date | null;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface RefreshTokenTable {
  id: Id;
  userId: number;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: CreatedAt;
}

export interface InviteTable {
  id: Id;
  tenantId: number;
  email: string;
  displayName: string;
  role: Exclude<Role, 'platform_admin'>;
  tokenHash: string;
  invitedBy: number | null;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
  createdAt: CreatedAt;
}

export interface SipEndpointTable {
  id: Id;
  tenantId: number;
  kind: 'agent' | 'trunk';
  transport: 'webrtc' | 'udp' | null;
  asteriskId: string;
  name: string;
  userId: number | null;
  sipUsername: string | null;
  sipSecret: string | null;
  trunkAuth: 'ip' | 'register' | null;
  host: string | null;
  port: number | null;
  contact: string | null;
  matchIps: string | null;
  callerIdPolicy: 'tenant_default' | 'did' | 'agent' | 'fixed' | null;
  callerIdNumber: string | null;
  codecs: Generated<string>;
  enabled: Generated<number>;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface BusinessHoursTable {
  id: Id;
  tenantId: number;
  name: string;
  timezone: string;
  weeklySchedule: Json;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface HolidayTable {
  id: Id;
  tenantId: number;
  businessHoursId: number;
  date: ColumnType<string, string, string>;
  name: string;
  createdAt: CreatedAt;
}

interface Target {
  targetType: TargetType | null;
  targetId: number | null;
  targetValue: string | null;
}

export interface IvrMenuTable {
  id: Id;
  tenantId: number;
  name: string;
  prompt: string;
  timeoutSeconds: Generated<number>;
  maxRetries: Generated<number>;
  invalidPrompt: string | null;
  failoverTargetType: TargetType | null;
  failoverTargetId: number | null;
  failoverTargetValue: string | null;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface IvrOptionTable extends Target {
  id: Id;
  tenantId: number;
  menuId: number;
  digit: string;
}

export interface QueueTable {
  id: Id;
  tenantId: number;
  name: string;
  strategy: Generated<QueueStrategy>;
  ringTimeoutSeconds: Generated<number>;
  maxWaitSeconds: Generated<number>;
  wrapupSeconds: Generated<number>;
  announcePositionSeconds: Generated<number>;
  serviceLevelSeconds: Generated<number>;
  penaltyRelaxSeconds: Generated<number>;
  requiredSkills: Json;
  mohClass: Generated<string>;
  recordingEnabled: Generated<number>;
  callbackEnabled: Generated<number>;
  callbackDigit: Generated<string>;
  abandonCallbackSeconds: Generated<number>;
  overflowTargetType: TargetType | null;
  overflowTargetId: number | null;
  overflowTargetValue: string | null;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface QueueMemberTable {
  id: Id;
  tenantId: number;
  queueId: number;
  userId: number;
  penalty: Generated<number>;
  skills: Json;
  createdAt: CreatedAt;
}

export interface DidTable extends Target {
  id: Id;
  tenantId: number;
  number: string;
  description: string | null;
  trunkId: number | null;
  businessHoursId: number | null;
  afterHoursTargetType: TargetType | null;
  afterHoursTargetId: number | null;
  afterHoursTargetValue: string | null;
  callerPriority: Generated<number>;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface CallTable {
  id: Id;
  tenantId: number;
  linkedid: string;
  direction: 'inbound' | 'outbound' | 'internal';
  channelKind: 'pstn' | 'webrtc' | 'internal' | 'web';
  state: CallState;
  fromNumber: string | null;
  toNumber: string | null;
  didId: number | null;
  queueId: number | null;
  agentUserId: number | null;
  startedAt: Date;
  queuedAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  waitMs: Generated<number>;
  talkMs: Generated<number>;
  holdMs: Generated<number>;
  hangupCause: string | null;
  hangupSide: 'caller' | 'agent' | 'system' | null;
  disposition: string | null;
  notes: string | null;
  recordingPath: string | null;
  /** Web calls (channel kind 'web'): the widget, the page and the visitor's pre-call form. */
  widgetId: ColumnType<number | null, number | null | undefined, number | null>;
  pageUrl: ColumnType<string | null, string | null | undefined, string | null>;
  visitorName: ColumnType<string | null, string | null | undefined, string | null>;
  visitorEmail: ColumnType<string | null, string | null | undefined, string | null>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface CallEventTable {
  id: Id;
  tenantId: number;
  callId: number;
  seq: number;
  type: string;
  occurredAt: Date;
  data: Json;
}

export interface AuditLogTable {
  id: Id;
  tenantId: number | null;
  actorUserId: number | null;
  action: string;
  entityType: string;
  entityId: string | null;
  beforeData: Json | null;
  afterData: Json | null;
  requestId: string | null;
  ip: string | null;
  createdAt: CreatedAt;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  publicJwk: Json;
  privateJwk: Json;
  createdAt: CreatedAt;
  retiredAt: Date | null;
}

export interface IdempotencyKeyTable {
  id: Id;
  userId: number;
  idempotencyKey: string;
  method: string;
  path: string;
  requestHash: string;
  statusCode: number | null;
  responseBody: string | null;
  createdAt: CreatedAt;
}

export interface AgentStateLogTable {
  id: Id;
  tenantId: number;
  userId: number;
  status: 'offline' | 'available' | 'ringing' | 'on_call' | 'wrap_up' | 'away';
  reason: string | null;
  callLinkedid: string | null;
  startedAt: Date;
}

export interface VoicemailTable {
  id: Id;
  tenantId: number;
  callId: number | null;
  callLinkedid: string;
  boxUserId: number | null;
  boxName: string | null;
  fromNumber: string | null;
  durationMs: number;
  recordingName: string;
  createdAt: CreatedAt;
  listenedAt: Date | null;
}

export interface SecurityBlockTable {
  id: Id;
  ip: string;
  reason: string;
  failures: number;
  blockedAt: Date;
  expiresAt: Date;
  liftedAt: Date | null;
  liftReason: 'expired' | 'admin' | null;
  liftedBy: number | null;
  /** Generated: `ip` while not lifted (unique), else NULL. */
  activeIp: ColumnType<string | null, never, never>;
}

export type CallbackStatus = 'waiting' | 'dialing' | 'completed' | 'failed' | 'cancelled';
export type CallbackReason = 'requested' | 'abandoned' | 'scheduled' | 'web';

export interface CallbackTable {
  id: Id;
  tenantId: number;
  queueId: number;
  number: string;
  reason: CallbackReason;
  status: Generated<CallbackStatus>;
  originLinkedid: string | null;
  callbackLinkedid: string | null;
  queuedAt: Date;
  priority: Generated<number>;
  attempts: Generated<number>;
  maxAttempts: Generated<number>;
  nextAttemptAt: Date | null;
  agentUserId: number | null;
  lastCause: string | null;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export type WidgetPosition = 'bottom-right' | 'bottom-left';

export interface WidgetTable {
  id: Id;
  tenantId: number;
  publicId: string;
  name: string;
  color: Generated<string>;
  label: Generated<string>;
  position: Generated<WidgetPosition>;
  logoUrl: string | null;
  greeting: string | null;
  callEnabled: Generated<number>;
  chatEnabled: Generated<number>;
  callQueueId: number | null;
  chatQueueId: number | null;
  businessHoursId: number | null;
  allowedOrigins: Json;
  prechatFields: Json;
  enabled: Generated<number>;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export type TicketStatus = 'new' | 'open' | 'pending' | 'solved' | 'closed';
export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent';

export interface ContactTable {
  id: Id;
  tenantId: number;
  firstName: Generated<string>;
  lastName: Generated<string>;
  company: Generated<string>;
  notes: string | null;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface WidgetCallTicketTable {
  id: Id;
  tenantId: number;
  widgetId: number;
  ticket: string;
  endpointId: string;
  extension: string;
  pageUrl: string | null;
  visitorName: string | null;
  visitorEmail: string | null;
  visitorIp: string | null;
  expiresAt: Date;
  usedAt: Date | null;
  callLinkedid: string | null;
  callbackNumber: string | null;
  removedAt: Date | null;
  createdAt: CreatedAt;
}

export interface RateLimitHitTable {
  id: Id;
  bucket: string;
  windowStart: Date;
  hits: Generated<number>;
}

export interface OfflineMessageTable {
  id: Id;
  tenantId: number;
  widgetId: number | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  message: string;
  pageUrl: string | null;
  createdAt: CreatedAt;
  handledAt: Date | null;
}

export type ChatStatus = 'waiting' | 'active' | 'closed';

export interface ChatTable {
  id: Id;
  tenantId: number;
  widgetId: number | null;
  queueId: number | null;
  visitorKey: string;
  visitorName: string | null;
  visitorEmail: string | null;
  pageUrl: string | null;
  status: Generated<ChatStatus>;
  assignedUserId: number | null;
  visitorReadId: Generated<number>;
  staffReadId: Generated<number>;
  createdAt: CreatedAt;
  acceptedAt: Date | null;
  closedAt: Date | null;
}

export interface ChatMessageTable {
  id: Id;
  tenantId: number;
  chatId: number;
  sender: 'visitor' | 'staff' | 'system';
  userId: number | null;
  body: string;
  createdAt: CreatedAt;
}

export interface ContactPhoneTable {
  id: Id;
  tenantId: number;
  contactId: number;
  number: string;
  label: Generated<string>;
  position: Generated<number>;
}

export interface ContactEmailTable {
  id: Id;
  tenantId: number;
  contactId: number;
  email: string;
  position: Generated<number>;
}

export interface SlaPolicyTable {
  id: Id;
  tenantId: number;
  priority: TicketPriority;
  firstResponseMinutes: number;
  resolutionMinutes: number;
  businessHoursId: number | null;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface TicketFieldTable {
  id: Id;
  tenantId: number;
  fieldKey: string;
  label: string;
  type: 'text' | 'number' | 'boolean' | 'date' | 'select';
  options: Json;
  required: Generated<number>;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface TicketTable {
  id: Id;
  tenantId: number;
  subject: string;
  requesterContactId: number | null;
  status: Generated<TicketStatus>;
  priority: Generated<TicketPriority>;
  assigneeUserId: number | null;
  groupQueueId: number | null;
  tags: Json;
  customFields: Json;
  sourceKind: string | null;
  sourceId: string | null;
  mergedIntoTicketId: number | null;
  createdByUserId: number | null;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  firstRespondedAt: Date | null;
  solvedAt: Date | null;
  closedAt: Date | null;
  firstResponseBreachedAt: Date | null;
  resolutionBreachedAt: Date | null;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface TicketMessageTable {
  id: Id;
  tenantId: number;
  ticketId: number;
  kind: 'public' | 'internal';
  channel: Generated<'web' | 'phone' | 'voicemail' | 'chat' | 'form'>;
  authorUserId: number | null;
  authorContactId: number | null;
  body: string;
  movedFromTicketId: number | null;
  createdAt: CreatedAt;
}

export interface TicketHistoryTable {
  id: Id;
  tenantId: number;
  ticketId: number;
  actorUserId: number | null;
  action: string;
  field: string | null;
  oldValue: Json | null;
  newValue: Json | null;
  createdAt: CreatedAt;
}

export interface TicketLinkTable {
  id: Id;
  tenantId: number;
  ticketId: number;
  kind: string;
  sourceId: string;
  createdAt: CreatedAt;
}

export interface TicketAttachmentTable {
  id: Id;
  tenantId: number;
  ticketId: number;
  messageId: number | null;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
  uploadedByUserId: number | null;
  createdAt: CreatedAt;
}

export interface TicketViewTable {
  id: Id;
  tenantId: number;
  userId: number;
  name: string;
  filters: Json;
  version: Version;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface Database {
  tenants: TenantTable;
  users: UserTable;
  refreshTokens: RefreshTokenTable;
  invites: InviteTable;
  sipEndpoints: SipEndpointTable;
  businessHours: BusinessHoursTable;
  holidays: HolidayTable;
  ivrMenus: IvrMenuTable;
  ivrOptions: IvrOptionTable;
  queues: QueueTable;
  queueMembers: QueueMemberTable;
  dids: DidTable;
  calls: CallTable;
  callEvents: CallEventTable;
  auditLog: AuditLogTable;
  signingKeys: SigningKeyTable;
  idempotencyKeys: IdempotencyKeyTable;
  agentStateLog: AgentStateLogTable;
  voicemails: VoicemailTable;
  securityBlocks: SecurityBlockTable;
  callbacks: CallbackTable;
  widgets: WidgetTable;
  widgetCallTickets: WidgetCallTicketTable;
  rateLimitHits: RateLimitHitTable;
  offlineMessages: OfflineMessageTable;
  chats: ChatTable;
  chatMessages: ChatMessageTable;
  contacts: ContactTable;
  contactPhones: ContactPhoneTable;
  contactEmails: ContactEmailTable;
  slaPolicies: SlaPolicyTable;
  ticketFields: TicketFieldTable;
  tickets: TicketTable;
  ticketMessages: TicketMessageTable;
  ticketHistory: TicketHistoryTable;
  ticketLinks: TicketLinkTable;
  ticketAttachments: TicketAttachmentTable;
  ticketViews: TicketViewTable;
}
