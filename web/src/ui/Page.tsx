import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';

/** A page's heading (and the document title), with optional actions beside it. */
export function Page({ title, actions, children }: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · qrflow`;
  }, [title]);
  return (
    <section class="page">
      <div class="page-head">
        <h1>{title}</h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}
