import type { ComponentChildren } from 'preact';
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { useSession } from '../auth/session';

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
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const me = state.status === 'signed-in' ? state.me : null;
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="sidebar">
        <div class="sidebar-top">
          <a class="brand" href="/qr">
            qrflow
          </a>
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
        {children}
      </main>
    </div>
  );
}
