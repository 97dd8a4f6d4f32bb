import type { ComponentChildren } from 'preact';
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { useSession } from '../auth/session';
import { useDataMode } from './useDataMode';

const LINKS = [
  { href: '/qr', label: 'QR codes' },
  { href: '/settings/api', label: 'API settings' },
  { href: '/settings/members', label: 'Members' },
  { href: '/webhooks', label: 'Webhooks' },
  { href: '/events', label: 'Events' },
];

/** The sidebar (a top bar with a menu button on a phone) and the page beside it. */
export function Shell({ children }: { children: ComponentChildren }) {
  const { state, signOut } = useSession();
  const { path, route } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [mode, setMode] = useDataMode();
  const me = state.status === 'signed-in' ? state.me : null;
  const test = mode === 'test';

  function switchMode(next: 'live' | 'test') {
    // a code belongs to one mode: from its page, go back to the list of the other mode's codes
    if (/^\/qr\/[^/]+/.test(path)) route('/qr');
    setMode(next);
  }

  return (
    <div class={test ? 'shell test-mode' : 'shell'}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="sidebar">
        <div class="sidebar-top">
          <a class="brand" href="/qr">
            qrflow
          </a>
          <label class="mode-switch">
            <input type="checkbox" role="switch" checked={test} aria-describedby={test ? 'mode-banner' : undefined} onChange={(e) => switchMode(e.currentTarget.checked ? 'test' : 'live')} />
            <span>Test mode</span>
          </label>
          <button type="button" class="button menu-button" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen(!menuOpen)}>
            Menu
          </button>
        </div>
        <nav id="main-nav" aria-label="Console" class={menuOpen ? 'nav open' : 'nav'}>
          <ul>
            {LINKS.map((link) => {
              const current = path === link.href || path.startsWith(`${link.href}/`);
              return (
                <li key={link.href}>
                  <a href={link.href} aria-current={current ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
                    {link.label}
                  </a>
                </li>
              );
            })}
            <li>
              <a href="/api-docs" target="_blank" rel="noopener">
                Documentation
              </a>
            </li>
          </ul>
          {me ? (
            <div class="account">
              <p>
                <span class="account-workspace">{me.workspace.name}</span>
                <span class="muted">
                  {me.user?.email} · {me.user?.role}
                </span>
              </p>
              <button type="button" class="button" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          ) : null}
        </nav>
      </header>
      <main id="main" class="content" tabIndex={-1}>
        {test ? (
          <div id="mode-banner" class="mode-banner" role="status">
            <p>
              <strong>Test mode.</strong> You are seeing test data: the codes, webhooks, events and analytics of test keys (<span class="mono">qr_test_</span>) and of this switch. Nothing here touches live data or the month's allowances. Keys, members and usage are shared by both modes.
            </p>
            <button type="button" class="button small" onClick={() => switchMode('live')}>
              Back to live data
            </button>
          </div>
        ) : null}
        {/* keyed by the mode, so every page fetches its data again when the switch flips */}
        <div key={mode}>{children}</div>
      </main>
    </div>
  );
}
