/** API shapes of the website widget: settings (admins), the public loader config, call tickets. */
import { Type, type Static } from '@sinclair/typebox';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { StringEnum, Timestamps, VersionField, nullable } from '../routing/common.ts';

export const POSITIONS = ['bottom-right', 'bottom-left'] as const;

/** `https://shop.example.com`, `http://localhost:8080`, or a subdomain wildcard `https://*.example.com`. */
export const OriginPattern = Type.String({
  pattern: '^https?://(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$',
  maxLength: 255,
});

export const PrechatField = Type.Object(
  {
    name: Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_]{0,31}$' }),
    label: Type.String({ minLength: 1, maxLength: 80 }),
    type: StringEnum(['text', 'email', 'tel'] as const),
    required: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type PrechatField = Static<typeof PrechatField>;

const Color = Type.String({ pattern: '^#[0-9a-fA-F]{6}$' });
const HttpUrl = Type.String({ pattern: '^https?://', maxLength: 500 });

const settings = {
  name: Type.String({ minLength: 1, maxLength: 120 }),
  color: Type.Optional(Color),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
  position: Type.Optional(StringEnum(POSITIONS)),
  logoUrl: Type.Optional(nullable(HttpUrl)),
  greeting: Type.Optional(nullable(Type.String({ maxLength: 500 }))),
  callEnabled: Type.Optional(Type.Boolean()),
  chatEnabled: Type.Optional(Type.Boolean()),
  callQueueId: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
  chatQueueId: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
  businessHoursId: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
  allowedOrigins: Type.Optional(Type.Array(OriginPattern, { maxItems: 50 })),
  prechatFields: Type.Optional(Type.Array(PrechatField, { maxItems: 10 })),
  enabled: Type.Optional(Type.Boolean()),
};

export const WidgetCreate = Type.Object(settings, { additionalProperties: false });
export type WidgetCreate = Static<typeof WidgetCreate>;

export const WidgetPatch = Type.Object(
  { ...settings, name: Type.Optional(settings.name), version: VersionField },
  { additionalProperties: false },
);
export type WidgetPatch = Static<typeof WidgetPatch>;

export const Widget = Type.Object({
  id: Type.Integer(),
  publicId: Type.String({ description: 'What the snippet carries (widget.js?id=…)' }),
  name: Type.String(),
  color: Type.String(),
  label: Type.String(),
  position: StringEnum(POSITIONS),
  logoUrl: nullable(Type.String()),
  greeting: nullable(Type.String()),
  callEnabled: Type.Boolean(),
  chatEnabled: Type.Boolean(),
  callQueueId: nullable(Type.Integer()),
  chatQueueId: nullable(Type.Integer()),
  businessHoursId: nullable(Type.Integer()),
  allowedOrigins: Type.Array(Type.String()),
  prechatFields: Type.Array(PrechatField),
  enabled: Type.Boolean(),
  snippet: Type.String({ description: 'The script tag to paste into the site' }),
  ...Timestamps,
});
export type Widget = Static<typeof Widget>;

export const WidgetList = listResponse(Widget);
export const WidgetListQuery = listQuery({});
export type WidgetListQuery = Static<typeof WidgetListQuery>;

export const PublicIdParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{8,40}$', description: 'The widget’s public id' }),
});

/** What the loader on a customer's page needs: branding, and whether anyone answers now. */
export const PublicConfig = Type.Object({
  id: Type.String(),
  color: Type.String(),
  label: Type.String(),
  position: StringEnum(POSITIONS),
  logoUrl: nullable(Type.String()),
  greeting: nullable(Type.String()),
  call: Type.Boolean({ description: 'Click-to-call is offered' }),
  chat: Type.Boolean({ description: 'Chat is offered' }),
  open: Type.Boolean({ description: 'Within business hours (outside: the offline form)' }),
  prechatFields: Type.Array(PrechatField),
});

export const TicketRequest = Type.Object(
  {
    pageUrl: Type.Optional(Type.String({ maxLength: 1000 })),
    name: Type.Optional(Type.String({ maxLength: 120 })),
    email: Type.Optional(Type.String({ maxLength: 254 })),
  },
  { additionalProperties: false },
);
export type TicketRequest = Static<typeof TicketRequest>;

export const IceServer = Type.Object({
  urls: Type.Array(Type.String()),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});

export const CallTicket = Type.Object({
  ticket: Type.String({ description: 'The visitor’s handle: status and callback requests' }),
  expiresAt: Type.String({ format: 'date-time' }),
  sip: Type.Object({
    wsUrl: Type.String(),
    uri: Type.String({ description: 'The SIP identity the browser uses (its endpoint)' }),
    username: Type.String(),
    password: Type.String(),
    target: Type.String({ description: 'The SIP URI to INVITE' }),
  }),
  iceServers: Type.Array(IceServer),
});
export type CallTicket = Static<typeof CallTicket>;

export const TicketParams = Type.Object({
  ticket: Type.String({ pattern: '^[A-Za-z0-9]{16,40}$' }),
});

export const TicketStatus = Type.Object({
  state: StringEnum(['pending', 'routing', 'queued', 'connected', 'ended', 'expired'] as const),
  position: nullable(Type.Integer({ description: '1-based place in the queue while queued' })),
  callbackNumber: nullable(Type.String()),
});

export const CallbackRequest = Type.Object(
  { number: Type.String({ pattern: '^\\+?[0-9 ().-]{3,30}$' }) },
  { additionalProperties: false },
);

export const CallbackAnswer = Type.Object({
  accepted: Type.Boolean(),
  keepsPlace: Type.Boolean({ description: 'The callback keeps the caller’s place in the queue' }),
});

export const OfflineMessageCreate = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 120 })),
    email: Type.Optional(Type.String({ maxLength: 254 })),
    phone: Type.Optional(Type.String({ maxLength: 32 })),
    message: Type.String({ minLength: 1, maxLength: 5000 }),
    pageUrl: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type OfflineMessageCreate = Static<typeof OfflineMessageCreate>;

export const OfflineMessage = Type.Object({
  id: Type.Integer(),
  widgetId: nullable(Type.Integer()),
  name: nullable(Type.String()),
  email: nullable(Type.String()),
  phone: nullable(Type.String()),
  message: Type.String(),
  pageUrl: nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  handledAt: nullable(Type.String({ format: 'date-time' })),
});
export const OfflineMessageList = listResponse(OfflineMessage);
export const OfflineMessageListQuery = listQuery({
  widgetId: Type.Optional(Type.Integer({ minimum: 1 })),
  handled: Type.Optional(Type.Boolean()),
});
export type OfflineMessageListQuery = Static<typeof OfflineMessageListQuery>;
