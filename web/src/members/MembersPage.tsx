import { useState } from 'preact/hooks';
import { api, messageOf } from '../api/client';
import type { Member, Role } from '../api/types';
import { canManage, useRole, useSession } from '../auth/session';
import { ReadOnlyNotice } from '../layout/ReadOnlyNotice';
import { CopyButton } from '../ui/CopyButton';
import { Alert, ConfirmDialog, Dialog } from '../ui/Dialog';
import { Loading, Page } from '../ui/Page';
import { RelativeTime } from '../ui/Time';
import { useResource } from '../ui/useResource';

const ROLES: Role[] = ['owner', 'admin', 'member'];
const ROLE_HELP: Record<Role, string> = {
  owner: 'everything, including members',
  admin: 'API keys, codes, webhooks',
  member: 'codes and analytics; read-only settings',
};

function AddMemberDialog({ onClose, onAdded }: { onClose: () => void; onAdded: (member: Member) => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState<string | null>(null);
  const [added, setAdded] = useState<string>('');

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { temporary_password, ...member } = (await api.post<{ data: Member & { temporary_password: string } }>('/api/v1/members', { email: email.trim(), role })).data;
      onAdded(member);
      setAdded(member.email);
      setPassword(temporary_password);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={password ? 'Member added' : 'Add member'} onClose={onClose}>
      {password ? (
        <div>
          <p class="alert alert-warning" role="status">
            Give {added} this temporary password now. You won't be able to see it again.
          </p>
          <label for="member-temp-password">Temporary password</label>
          <div class="secret-row">
            <input id="member-temp-password" class="mono" readOnly value={password} />
            <CopyButton text={password} />
          </div>
          <div class="actions">
            <button type="button" class="button primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit}>
          {error ? <Alert>{error}</Alert> : null}
          <label for="member-email">Email</label>
          <input id="member-email" type="email" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          <label for="member-role">Role</label>
          <select id="member-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r} — {ROLE_HELP[r]}
              </option>
            ))}
          </select>
          <div class="actions">
            <button type="button" class="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="button primary" disabled={busy}>
              Add member
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/** Members (/settings/members): owners add, change and remove; admins see the list; members a notice. */
export function MembersPage() {
  const role = useRole();
  const { state } = useSession();
  const myId = state.status === 'signed-in' ? state.me.user?.id : undefined;
  const members = useResource(async () => (canManage(role) ? (await api.get<{ data: Member[] }>('/api/v1/members')).data : []), [role]);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isOwner = role === 'owner';

  if (!canManage(role)) {
    return (
      <Page title="Members">
        <ReadOnlyNotice what="Members" />
      </Page>
    );
  }

  async function changeRole(member: Member, next: Role) {
    setError(null);
    try {
      const updated = (await api.patch<{ data: Member }>(`/api/v1/members/${encodeURIComponent(member.id)}`, { role: next })).data;
      members.setData((list) => (list ?? []).map((m) => (m.id === member.id ? { ...m, ...updated } : m)));
    } catch (caught) {
      setError(messageOf(caught));
      void members.reload();
    }
  }

  return (
    <Page
      title="Members"
      actions={
        isOwner ? (
          <button type="button" class="button primary" onClick={() => setAdding(true)}>
            Add member
          </button>
        ) : null
      }
    >
      {!isOwner ? <Alert kind="info">Only owners add, change or remove members.</Alert> : null}
      {error ? <Alert>{error}</Alert> : null}
      {members.error ? <Alert>{members.error}</Alert> : null}
      {members.loading && !members.data ? <Loading what="members" /> : null}
      {members.data ? (
        <div class="card table-wrap" tabIndex={0} role="region" aria-label="Members">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                {isOwner ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {members.data.map((member) => (
                <tr key={member.id}>
                  <th scope="row" class="break">
                    {member.email}
                    {member.user_id === myId ? <span class="muted"> (you)</span> : null}
                  </th>
                  <td>
                    {isOwner ? (
                      <select aria-label={`Role of ${member.email}`} value={member.role} onChange={(e) => void changeRole(member, e.currentTarget.value as Role)}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <span class="capitalize">{member.role}</span>
                    )}
                  </td>
                  <td>
                    <RelativeTime iso={member.created_at} />
                  </td>
                  {isOwner ? (
                    <td>
                      <button type="button" class="button small danger" aria-label={`Remove ${member.email}`} onClick={() => setRemoving(member)}>
                        Remove
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {adding ? <AddMemberDialog onClose={() => setAdding(false)} onAdded={(member) => members.setData((list) => [...(list ?? []), member])} /> : null}
      {removing ? (
        <ConfirmDialog
          title={`Remove ${removing.email}?`}
          message="They lose access to this workspace at once. Keys they created keep working until you revoke them."
          confirmLabel="Remove member"
          busy={busy}
          error={error}
          onClose={() => {
            setRemoving(null);
            setError(null);
          }}
          onConfirm={async () => {
            setBusy(true);
            try {
              await api.delete(`/api/v1/members/${encodeURIComponent(removing.id)}`);
              members.setData((list) => (list ?? []).filter((m) => m.id !== removing.id));
              setRemoving(null);
              setError(null);
            } catch (caught) {
              setError(messageOf(caught));
            } finally {
              setBusy(false);
            }
          }}
        />
      ) : null}
    </Page>
  );
}
