import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { expectError } from '../../../test/helpers/errors.js';
import { ConsoleBrowser } from '../../../test/helpers/browser.js';

interface Member {
  id: string;
  user_id: string;
  email: string;
  role: string;
  created_at: string;
}

describe('members over REST', () => {
  let server: TestServer;
  let owner: string;
  let admin: string;
  let member: string;

  beforeAll(async () => {
    server = await startTestServer();
    const { workspaces } = server.running.app.services;
    await workspaces.addMember(server.workspace, { email: 'admin@members.example', password: 'admin-password-1', role: 'admin' });
    await workspaces.addMember(server.workspace, { email: 'member@members.example', password: 'member-password-1', role: 'member' });
    owner = await server.login();
    admin = await server.login('admin@members.example', 'admin-password-1');
    member = await server.login('member@members.example', 'member-password-1');
  });
  afterAll(async () => {
    await server.cleanup();
  });

  const list = async (token = owner) => {
    const response = await server.request('GET', '/api/v1/members', { token });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: Member[] }).data;
  };
  const add = (body: unknown, token = owner) => server.request('POST', '/api/v1/members', { token, body });
  const ownerMember = async () => (await list()).find((m) => m.email === server.ownerEmail)!;

  it('lists the members, oldest first, with id, user id, email, role and date, to owners and admins', async () => {
    const members = await list();
    expect(members.map((m) => [m.email, m.role])).toEqual([
      [server.ownerEmail, 'owner'],
      ['admin@members.example', 'admin'],
      ['member@members.example', 'member'],
    ]);
    expect(Object.keys(members[0]!).sort()).toEqual(['created_at', 'email', 'id', 'role', 'user_id']);
    expect(members[0]!.id).toMatch(/^mem_/);
    expect(await list(admin)).toEqual(members);
    await expectError(await server.request('GET', '/api/v1/members', { token: member }), 403, 'forbidden_role');
  });

  it('adds a member with a temporary password shown once, which signs them in', async () => {
    const response = await add({ email: 'New.Person@Members.example', role: 'member' });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: Member & { temporary_password: string } };
    expect(data).toMatchObject({ email: 'new.person@members.example', role: 'member' });
    expect(data.temporary_password).toMatch(/^[0-9A-Za-z]{20}$/);
    // shown once: the list never has it
    const listed = await list();
    expect(JSON.stringify(listed)).not.toContain(data.temporary_password);
    expect(listed.find((m) => m.id === data.id)).toEqual({ id: data.id, user_id: data.user_id, email: data.email, role: 'member', created_at: data.created_at });
    const token = await server.login('new.person@members.example', data.temporary_password);
    const me = (await (await server.request('GET', '/api/v1/me', { token })).json()) as { data: { user: { role: string }; workspace: { id: string } } };
    expect(me.data).toMatchObject({ user: { role: 'member' }, workspace: { id: server.workspace.id } });
  });

  it('answers 409 user_exists for an email already in use, and 400 for a bad email or role', async () => {
    await expectError(await add({ email: 'admin@members.example', role: 'member' }), 409, 'user_exists');
    const badEmail = await expectError(await add({ email: 'not-an-email', role: 'member' }), 400, 'validation_error');
    expect(badEmail.error.details?.map((d) => d.field)).toEqual(['email']);
    const badRole = await expectError(await add({ email: 'fine@members.example', role: 'superuser' }), 400, 'validation_error');
    expect(badRole.error.details?.map((d) => d.field)).toEqual(['role']);
  });

  it('lets only owners write: admins and members get 403 forbidden_role', async () => {
    const target = (await list()).find((m) => m.role === 'member')!;
    for (const token of [admin, member]) {
      await expectError(await add({ email: `denied-${token.slice(4, 10)}@members.example`, role: 'member' }, token), 403, 'forbidden_role');
      await expectError(await server.request('PATCH', `/api/v1/members/${target.id}`, { token, body: { role: 'admin' } }), 403, 'forbidden_role');
      await expectError(await server.request('DELETE', `/api/v1/members/${target.id}`, { token }), 403, 'forbidden_role');
    }
    expect((await list()).find((m) => m.id === target.id)?.role).toBe('member');
  });

  it('changes a role, which applies to the member\'s next request', async () => {
    const added = ((await (await add({ email: 'promoted@members.example', role: 'member' })).json()) as { data: Member & { temporary_password: string } }).data;
    const token = await server.login('promoted@members.example', added.temporary_password);
    await expectError(await server.request('GET', '/api/v1/keys', { token }), 403, 'forbidden_role');
    const response = await server.request('PATCH', `/api/v1/members/${added.id}`, { token: owner, body: { role: 'admin' } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: Member }).data).toMatchObject({ id: added.id, role: 'admin' });
    expect((await server.request('GET', '/api/v1/keys', { token })).status).toBe(200);
  });

  it('removes a member: their session ends and the email can be added again', async () => {
    const added = ((await (await add({ email: 'leaving@members.example', role: 'admin' })).json()) as { data: Member & { temporary_password: string } }).data;
    const token = await server.login('leaving@members.example', added.temporary_password);
    expect((await server.request('GET', '/api/v1/me', { token })).status).toBe(200);
    const response = await server.request('DELETE', `/api/v1/members/${added.id}`, { token: owner });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { removed: true } });
    expect((await list()).map((m) => m.id)).not.toContain(added.id);
    await expectError(await server.request('GET', '/api/v1/me', { token }), 401, 'invalid_session');
    await expectError(await server.request('DELETE', `/api/v1/members/${added.id}`, { token: owner }), 404, 'not_found');
    expect((await add({ email: 'leaving@members.example', role: 'member' })).status).toBe(201);
  });

  it('protects the last owner: 409 last_owner on demotion or removal, allowed once there is another owner', async () => {
    const me = await ownerMember();
    const demote = await expectError(await server.request('PATCH', `/api/v1/members/${me.id}`, { token: owner, body: { role: 'admin' } }), 409, 'last_owner');
    expect(demote.error.message).toMatch(/last owner/);
    await expectError(await server.request('DELETE', `/api/v1/members/${me.id}`, { token: owner }), 409, 'last_owner');
    expect((await ownerMember()).role).toBe('owner');
    // keeping the role is not a demotion
    expect((await server.request('PATCH', `/api/v1/members/${me.id}`, { token: owner, body: { role: 'owner' } })).status).toBe(200);

    const second = ((await (await add({ email: 'second-owner@members.example', role: 'owner' })).json()) as { data: Member & { temporary_password: string } }).data;
    const secondToken = await server.login('second-owner@members.example', second.temporary_password);
    // two owners demoting each other at once: one of them stays owner
    const [first, other] = await Promise.all([
      server.request('PATCH', `/api/v1/members/${me.id}`, { token: secondToken, body: { role: 'admin' } }),
      server.request('PATCH', `/api/v1/members/${second.id}`, { token: owner, body: { role: 'admin' } }),
    ]);
    // the loser is refused: a demoted owner (403 forbidden_role), or the last owner (409 last_owner)
    const statuses = [first.status, other.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const owners = (await list(admin)).filter((m) => m.role === 'owner');
    expect(owners).toHaveLength(1);
    // put things back: the first owner is owner again
    const remainingOwner = owners[0]!.email === server.ownerEmail ? owner : secondToken;
    expect((await server.request('PATCH', `/api/v1/members/${me.id}`, { token: remainingOwner, body: { role: 'owner' } })).status).toBe(200);
  });

  it('keeps workspaces apart: another workspace\'s member is 404 and never listed', async () => {
    const other = await server.createWorkspace('Members elsewhere');
    const otherOwner = await server.login(other.email, other.password);
    const mine = await ownerMember();
    for (const [method, body] of [['PATCH', { role: 'member' }], ['DELETE', undefined]] as const) {
      await expectError(await server.request(method, `/api/v1/members/${mine.id}`, { token: otherOwner, ...(body ? { body } : {}) }), 404, 'not_found');
    }
    const theirs = ((await (await server.request('GET', '/api/v1/members', { token: otherOwner })).json()) as { data: Member[] }).data;
    expect(theirs.map((m) => m.email)).toEqual([other.email]);
    await expectError(await server.request('PATCH', `/api/v1/members/${theirs[0]!.id}`, { token: owner, body: { role: 'member' } }), 404, 'not_found');
    expect((await ownerMember()).role).toBe('owner');
  });

  it('needs a session: API keys get 401 session_required', async () => {
    const { secret } = await server.createKey();
    await expectError(await server.request('GET', '/api/v1/members', { token: secret }), 401, 'session_required');
  });

  it('works from the console with the cookie and the CSRF token', async () => {
    const browser = new ConsoleBrowser(server);
    expect((await browser.login(server.ownerEmail, server.ownerPassword)).status).toBe(200);
    await expectError(await browser.request('POST', '/api/v1/members', { body: { email: 'via-console@members.example', role: 'member' }, csrf: false }), 403, 'csrf_failed');
    const response = await browser.request('POST', '/api/v1/members', { body: { email: 'via-console@members.example', role: 'member' } });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: Member };
    expect((await browser.request('DELETE', `/api/v1/members/${data.id}`)).status).toBe(200);
  });
});
