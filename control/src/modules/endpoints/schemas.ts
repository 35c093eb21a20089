import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { listQuery } from '../../lib/pagination.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const CODECS = ['opus', 'ulaw', 'alaw', 'g722', 'gsm'] as const;
const Codecs = Type.Array(Type.Union(CODECS.map((c) => Type.Literal(c))), {
  minItems: 1,
  maxItems: CODECS.length,
  uniqueItems: true,
  description: 'In order of preference',
});

const Transport = Type.Union([Type.Literal('webrtc'), Type.Literal('udp')]);
const TrunkAuth = Type.Union([Type.Literal('ip'), Type.Literal('register')]);
const CallerIdPolicy = Type.Union(
  [
    Type.Literal('tenant_default'),
    Type.Literal('did'),
    Type.Literal('agent'),
    Type.Literal('fixed'),
  ],
  {
    description:
      "Caller ID on outbound calls: the tenant's default number, the DID the call came in on, the agent's own, or a fixed number",
  },
);

const Host = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern:
    '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:]+)$',
  description: 'Host name or IP address the trunk sends calls (and REGISTERs) to',
});
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Match = Type.Array(Type.String({ minLength: 2, maxLength: 48 }), {
  minItems: 1,
  maxItems: 10,
  description:
    'Source addresses that identify the carrier: IPs or CIDR networks, optionally one host with a port ' +
    '(`192.0.2.7`, `192.0.2.0/24`, `192.0.2.7:5060`, `2001:db8::/32`). Must not overlap any other trunk.',
});
const Contact = Type.String({
  maxLength: 255,
  pattern: '^sip:([A-Za-z0-9._~+*#-]+@)?[A-Za-z0-9.:\\[\\]-]+(:[0-9]{1,5})?$',
  description: 'Fixed SIP URI of a UDP agent phone, e.g. `sip:desk7@192.0.2.20:5060`',
});
const E164 = Type.String({ pattern: '^\\+?[0-9]{3,20}$', description: 'E.164 number' });
const SipUsername = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._~+-]+$' });
const SipPassword = Type.String({ minLength: 8, maxLength: 128, pattern: '^[^\\s;"]+$' });

export const Registration = Type.Object(
  {
    state: Type.Union([
      Type.Literal('online'),
      Type.Literal('offline'),
      Type.Literal('unknown'),
      Type.Literal('missing'),
      Type.Literal('disabled'),
    ]),
    channels: Type.Integer({ description: 'Calls on this endpoint now' }),
  },
  {
    description:
      "From Asterisk (ARI). online/offline: an agent's phone is registered or not, a trunk's " +
      'registrar/carrier answers its qualify or not (ARI does not report an outbound registration ' +
      'itself). unknown: Asterisk cannot be asked right now. missing: Asterisk does not hold it ' +
      '(the next reconnect re-pushes it). disabled: not pushed on purpose.',
  },
);
export type Registration = Static<typeof Registration>;

export const Endpoint = Type.Object({
  id: Type.Integer(),
  kind: Type.Union([Type.Literal('agent'), Type.Literal('trunk')]),
  name: Type.String(),
  asteriskId: Type.String({ description: 'PJSIP endpoint, aor and auth id in Asterisk' }),
  enabled: Type.Boolean(),
  codecs: Type.Array(Type.String()),
  userId: Nullable(Type.Integer()),
  transport: Nullable(Transport),
  contact: Nullable(Type.String()),
  sipUsername: Nullable(Type.String()),
  hasSecret: Type.Boolean({ description: 'The secret itself is only ever shown once' }),
  auth: Nullable(TrunkAuth),
  host: Nullable(Type.String()),
  port: Nullable(Type.Integer()),
  match: Type.Array(Type.String()),
  callerIdPolicy: Nullable(CallerIdPolicy),
  callerIdNumber: Nullable(Type.String()),
  registration: Registration,
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Endpoint = Static<typeof Endpoint>;

export const EndpointWithSecret = Type.Composite([
  Endpoint,
  Type.Object({
    secret: Type.String({ description: 'SIP password. Shown this once: store it now.' }),
  }),
]);

export const CreateAgentBody = Type.Object(
  {
    userId: Type.Integer({ minimum: 1 }),
    transport: Type.Optional(Transport),
    contact: Type.Optional(Contact),
    codecs: Type.Optional(Codecs),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateAgentBody = Static<typeof CreateAgentBody>;

export const CreateTrunkBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    auth: TrunkAuth,
    host: Host,
    port: Type.Optional(Port),
    match: Type.Optional(Match),
    username: Type.Optional(SipUsername),
    password: Type.Optional(SipPassword),
    callerIdPolicy: Type.Optional(CallerIdPolicy),
    callerIdNumber: Type.Optional(E164),
    codecs: Type.Optional(Codecs),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateTrunkBody = Static<typeof CreateTrunkBody>;

export const UpdateBody = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Instead of If-Match' })),
    enabled: Type.Optional(Type.Boolean()),
    codecs: Type.Optional(Codecs),
    contact: Type.Optional(Nullable(Contact)),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    host: Type.Optional(Host),
    port: Type.Optional(Port),
    match: Type.Optional(Nullable(Match)),
    username: Type.Optional(SipUsername),
    password: Type.Optional(SipPassword),
    callerIdPolicy: Type.Optional(CallerIdPolicy),
    callerIdNumber: Type.Optional(Nullable(E164)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateBody = Static<typeof UpdateBody>;

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const ListEndpointsQuery = listQuery({
  kind: Type.Optional(Type.Union([Type.Literal('agent'), Type.Literal('trunk')])),
  enabled: Type.Optional(Type.Boolean()),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 120, description: 'Part of the name or Asterisk id' }),
  ),
});
export type ListEndpointsQuery = Static<typeof ListEndpointsQuery>;

export const EndpointStatus = Type.Composite([
  Type.Object({ id: Type.Integer(), asteriskId: Type.String() }),
  Registration,
]);
