import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface DialogProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** Shown as a `role="alertdialog"` (for confirmations). */
  alert?: boolean;
}

/**
 * A modal on the native <dialog>: showModal() makes the rest of the page inert, so focus stays inside, and Escape
 * closes it. It is mounted only while open, so whatever it shows (a secret) leaves the page when it closes.
 */
export function Dialog({ title, onClose, children, alert = false }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dialog-title-${Math.random().toString(36).slice(2)}`).current;
  useEffect(() => {
    // focus goes back to whatever opened the dialog
    const previous = document.activeElement as HTMLElement | null;
    const dialog = ref.current;
    if (dialog && !dialog.open) {
      dialog.showModal();
      dialog.querySelector<HTMLElement>('.dialog-body input:not([readonly]), .dialog-body select, .dialog-body textarea')?.focus();
    }
    return () => previous?.focus?.();
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      role={alert ? 'alertdialog' : 'dialog'}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}

/** "Are you sure?" with the consequences spelled out and a danger button. */
export function ConfirmDialog(props: { title: string; message: ComponentChildren; confirmLabel: string; onConfirm: () => void | Promise<void>; onClose: () => void; busy?: boolean; error?: string | null }) {
  return (
    <Dialog title={props.title} onClose={props.onClose} alert>
      <p>{props.message}</p>
      {props.error ? <Alert>{props.error}</Alert> : null}
      <div class="actions">
        <button type="button" class="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="button danger" disabled={props.busy} onClick={() => void props.onConfirm()}>
          {props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

export function Alert({ children, kind = 'error' }: { children: ComponentChildren; kind?: 'error' | 'info' | 'success' | 'warning' }) {
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
