import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, forgetCsrfToken, messageOf, setSignedOutHandler } from '../api/client';
import { setDataMode } from '../api/mode';
import type { Me, Role, SetupInfo } from '../api/types';

export type SessionState =
  | { status: 'loading' }
  | { status: 'unreachable'; message: string }
  | { status: 'needs-setup'; setup: SetupInfo }
  | { status: 'signed-out'; setup: SetupInfo | null }
  | { status: 'signed-in'; me: Me };

interface SessionValue {
  state: SessionState;
  /** Asks the server who is signed in (after login, setup, or a 401). */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const refresh = useCallback(async () => {
    let setup: SetupInfo | null = null;
    try {
      setup = (await api.get<{ data: SetupInfo }>('/api/v1/setup')).data;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 0) {
        setState({ status: 'unreachable', message: messageOf(error) });
        return;
      }
    }
    if (setup?.needs_setup) {
      setState({ status: 'needs-setup', setup });
      return;
    }
    try {
      const me = (await api.get<{ data: Me }>('/api/v1/me')).data;
      setState({ status: 'signed-in', me });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setState({ status: 'signed-out', setup });
      else setState({ status: 'unreachable', message: messageOf(error) });
    }
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.post('/api/v1/auth/logout');
    } finally {
      forgetCsrfToken();
      // the next person to sign in on this tab starts on live data
      setDataMode('live');
      await refresh();
    }
  }, [refresh]);

  useEffect(() => {
    void refresh();
    setSignedOutHandler(() => void refresh());
    return () => setSignedOutHandler(null);
  }, [refresh]);

  const value = useMemo(() => ({ state, refresh, signOut }), [state, refresh, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in user's role (the console is only rendered for signed-in users past the router). */
export function useRole(): Role {
  const { state } = useSession();
  return state.status === 'signed-in' ? (state.me.user?.role ?? 'member') : 'member';
}

export function canManage(role: Role): boolean {
  return role === 'owner' || role === 'admin';
}
