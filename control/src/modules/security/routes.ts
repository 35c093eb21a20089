/**
 * /api/v1/security: failed SIP authentications per source address and the blocks they caused.
 * The PBX is shared by every tenant, so only platform admins see or lift them.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listResponse } from '../../lib/pagination.ts';
import { SecurityService } from './service.ts';
import { AuthFailures, AuthFailuresQuery, Block, BlockIdParams, ListBlocksQuery } from './schemas.ts';

const PLATFORM = ['platform_admin'] as const;
const tags = ['security'];
const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});

export const securityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = new SecurityService(
    app.db,
    app.ari,
    app.config.security,
    app.log.child({ module: 'security' }),
  );
  app.ari.onConnected(async () => {
    await service.resync();
  });
  app.addHook('onReady', async () => {
    await service.start();
  });
  app.addHook('onClose', async () => {
    await service.stop();
  });

  app.get(
    '/security/auth-failures',
    {
      config: { auth: PLATFORM },
      schema: {
        tags,
        summary: 'Failed SIP authentications per source address, within the window',
        description:
          'Read from Asterisk’s security events. An address reaching the threshold is blocked ' +
          'for blockSeconds, unless it is on the never-block list.',
        querystring: AuthFailuresQuery,
        response: { 200: AuthFailures },
      },
    },
    async (request) => service.failures(request.query),
  );

  app.get(
    '/security/blocks',
    {
      config: { auth: PLATFORM },
      schema: {
        tags,
        summary: 'Blocked source addresses, active and lifted (newest first)',
        querystring: ListBlocksQuery,
        response: { 200: listResponse(Block) },
      },
    },
    async (request) => service.list(request.query),
  );

  app.get(
    '/security/blocks/:id',
    {
      config: { auth: PLATFORM },
      schema: {
        tags,
        summary: 'Read one block',
        params: BlockIdParams,
        response: { 200: Block, 404: ErrorBody },
      },
    },
    async (request) => service.get(request.params.id),
  );

  app.delete(
    '/security/blocks/:id',
    {
      config: { auth: PLATFORM },
      schema: {
        tags,
        summary: 'Lift a block now',
        description: 'Asterisk accepts the address again before this answers. Audited.',
        params: BlockIdParams,
        response: { 200: Block, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => service.lift(request, request.params.id),
  );
};
