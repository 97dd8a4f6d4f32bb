import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.js';
import { envelope, IdParams } from '../http/schemas.js';
import type { Role } from '../store/records.js';
import type { MemberService } from './service.js';

const RoleSchema = z.enum(['owner', 'admin', 'member']).meta({ id: 'Role', description: 'owner: everything, members included; admin: keys, codes and webhooks; member: codes and analytics' });

const MemberSchema = z
  .object({
    id: z.string().meta({ example: 'mem_8fK2mP0aZx91Qa' }),
    user_id: z.string(),
    email: z.string().meta({ example: 'sam@example.com' }),
    role: RoleSchema,
    created_at: z.string(),
  })
  .meta({ id: 'Member' });

const NewMember = MemberSchema.extend({
  temporary_password: z.string().meta({ description: 'Shown once: give it to the new member, who signs in with it.' }),
}).meta({ id: 'NewMember' });

const AddMemberBody = z
  .object({ email: z.string().trim().min(3).max(254).meta({ example: 'sam@example.com' }), role: RoleSchema })
  .strict()
  .meta({ id: 'AddMemberRequest' });

const ChangeRoleBody = z.object({ role: RoleSchema }).strict().meta({ id: 'ChangeRoleRequest' });

export function memberRoutes(members: MemberService): AnyRoute[] {
  const owners = { tag: 'Members', auth: 'session', roles: ['owner'] } as const;
  return [
    defineRoute({
      tag: 'Members',
      auth: 'session',
      roles: ['owner', 'admin'],
      method: 'get',
      path: '/api/v1/members',
      operationId: 'listMembers',
      summary: 'List the members of the workspace',
      description: 'Owners and admins.',
      responses: { 200: { description: 'The members, oldest first', schema: envelope(z.array(MemberSchema)) } },
      handler: async (req, res) => {
        res.json({ data: await members.list(req.auth!.workspace) });
      },
    }),
    defineRoute({
      ...owners,
      method: 'post',
      path: '/api/v1/members',
      operationId: 'addMember',
      summary: 'Add a member (a new user with a temporary password, shown once)',
      description: 'Owners only. The email must not belong to a user already (409 `user_exists`).',
      body: AddMemberBody,
      responses: {
        201: { description: 'The member and their temporary password (shown once)', schema: envelope(NewMember), headers: ['Cache-Control'] },
        409: { description: 'A user with that email exists', codes: ['user_exists'] },
      },
      handler: async (req, res, { body }) => {
        const { member, temporaryPassword } = await members.add(req.auth!.workspace, req.auth!.user!.id, { email: body.email, role: body.role as Role });
        res.setHeader('Cache-Control', 'no-store');
        res.status(201).json({ data: { ...member, temporary_password: temporaryPassword } });
      },
    }),
    defineRoute({
      ...owners,
      method: 'patch',
      path: '/api/v1/members/:id',
      operationId: 'updateMemberRole',
      summary: "Change a member's role",
      description: 'Owners only. The last owner cannot be demoted (409 `last_owner`).',
      params: IdParams,
      body: ChangeRoleBody,
      responses: {
        200: { description: 'The member', schema: envelope(MemberSchema) },
        403: { description: 'The acting user stopped being an owner meanwhile', codes: ['forbidden_role'] },
        409: { description: 'The last owner', codes: ['last_owner'] },
      },
      handler: async (req, res, { params, body }) => {
        res.json({ data: await members.setRole(req.auth!.workspace, req.auth!.user!.id, params.id, body.role as Role) });
      },
    }),
    defineRoute({
      ...owners,
      method: 'delete',
      path: '/api/v1/members/:id',
      operationId: 'removeMember',
      summary: 'Remove a member (their sessions end)',
      description: 'Owners only. The last owner cannot be removed (409 `last_owner`).',
      params: IdParams,
      responses: {
        200: { description: 'Removed', schema: envelope(z.object({ removed: z.boolean() })) },
        403: { description: 'The acting user stopped being an owner meanwhile', codes: ['forbidden_role'] },
        409: { description: 'The last owner', codes: ['last_owner'] },
      },
      handler: async (req, res, { params }) => {
        await members.remove(req.auth!.workspace, req.auth!.user!.id, params.id);
        res.json({ data: { removed: true } });
      },
    }),
  ] as AnyRoute[];
}
