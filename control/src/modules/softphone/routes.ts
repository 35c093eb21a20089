/**
 * The console's softphone: its SIP credentials for this session, and the media quality it
 * measures during calls.
 *
 *   POST /softphone/session             the caller's WebRTC endpoint, with a new secret (once)
 *   POST /live-calls/:callId/quality    a getStats() sample of the caller's own call
 *   GET  /call-quality                  the tenant's live calls' latest samples (supervisors)
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth, tenantOf } from '../../plugins/auth.ts';
import { AppError } from '../../lib/errors.ts';
import { CONTROL_ROLES, SUPERVISING, callNotFound } from '../calls/routes.ts';
import { QualityBoard } from './quality.ts';

const tags = ['softphone'];
const CALL_TAKERS = ['supervisor', 'agent', 'helpdesk'] as const;

const Session = Type.Object({
  endpointId: Type.Integer(),
  username: Type.String({ description: 'SIP user (and auth username)' }),
  password: Type.String({ description: 'A fresh secret; the previous one stops working now' }),
  uri: Type.String({ description: 'The address of record to register, sip:user@host' }),
  wsUrl: Type.String({ description: "Asterisk's SIP-over-WebSocket transport" }),
});

const num = (description: string) =>
  Type.Union([Type.Number({ minimum: 0, maximum: 1e12 }), Type.Null()], { description });
const QualityBody = Type.Object(
  {
    jitterMs: num('Inbound jitter'),
    packetLossPct: num('Inbound packets lost, percent'),
    rttMs: num('Round-trip time'),
    inboundBytes: Type.Number({ minimum: 0, description: 'Audio bytes received so far' }),
    outboundBytes: Type.Number({ minimum: 0, description: 'Audio bytes sent so far' }),
    audioLevelIn: num('Received audio level, 0–1'),
    audioLevelOut: num('Sent audio level, 0–1'),
  },
  { additionalProperties: false },
);
const Quality = Type.Composite([
  QualityBody,
  Type.Object({
    callId: Type.String(),
    userId: Type.Integer(),
    reportedAt: Type.String({ format: 'date-time' }),
    oneWayAudio: Type.Boolean({ description: 'No inbound audio for 5 s' }),
  }),
]);

export const softphoneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const board = new QualityBoard();
  const present = (q: ReturnType<QualityBoard['report']>) => {
    const { inboundGrewAt: _g, ...rest } = q;
    return { ...rest, reportedAt: new Date(q.reportedAt).toISOString() };
  };

  app.post(
    '/softphone/session',
    {
      config: { auth: CALL_TAKERS },
      schema: {
        tags,
        summary: "Credentials for my browser softphone (my WebRTC endpoint's secret is rotated)",
        description:
          'Each call gives a new secret and ends the previous one: the console asks once per ' +
          'session and keeps it in memory only. The endpoint allows one registration at a time.',
        response: { 200: Session },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const tenantId = tenantOf(request);
      const own = await app.endpoints.ofUser(tenantId, auth.userId);
      if (!own) {
        throw new AppError(
          'NO_PHONE',
          'You have no phone (SIP endpoint); ask an admin for one',
          404,
        );
      }
      if (own.transport !== 'webrtc' || !own.enabled) {
        throw new AppError(
          'NO_BROWSER_PHONE',
          'Your phone is not an enabled browser (WebRTC) phone',
          409,
        );
      }
      const { endpoint, secret } = await app.endpoints.rotateSecret(request, tenantId, own.id);
      // The call engine's view of this user may predate their endpoint (created after it was
      // cached): the phone coming online is the moment to look again.
      await app.agents.refresh(auth.userId);
      const username = endpoint.sipUsername ?? endpoint.asteriskId;
      const host = new URL(app.config.sipWsUrl).hostname;
      return {
        endpointId: endpoint.id,
        username,
        password: secret,
        uri: `sip:${username}@${host}`,
        wsUrl: app.config.sipWsUrl,
      };
    },
  );

  app.post(
    '/live-calls/:callId/quality',
    {
      config: { auth: CONTROL_ROLES },
      schema: {
        tags,
        summary: "Report my call's media quality (a getStats() sample)",
        params: Type.Object({ callId: Type.String({ minLength: 1, maxLength: 128 }) }),
        body: QualityBody,
        response: { 200: Quality },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const tenantId = tenantOf(request);
      const call = app.calls.getCall(tenantId, request.params.callId);
      if (!call || call.agent?.userId !== auth.userId) throw callNotFound(request.params.callId);
      const quality = present(
        board.report(
          tenantId,
          call.id,
          auth.userId,
          request.body,
          call.holdStartedAt !== undefined,
        ),
      );
      app.realtime.publish(tenantId, 'call.quality', quality);
      return quality;
    },
  );

  app.get(
    '/call-quality',
    {
      config: { auth: SUPERVISING },
      schema: {
        tags,
        summary: "Live calls' latest media quality",
        response: { 200: Type.Object({ items: Type.Array(Quality) }) },
      },
    },
    async (request) => {
      const tenantId = tenantOf(request);
      const items = board.list(tenantId, (id) => app.calls.getCall(tenantId, id) !== undefined);
      return { items: items.map(present) };
    },
  );
};
