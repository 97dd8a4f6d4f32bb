import { CopyButton } from '../ui/CopyButton';

/** A secret shown once: it exists only in the dialog that renders this, and goes when the dialog closes. */
export function SecretOnce({ secret, onDone, what = 'key' }: { secret: string; onDone: () => void; what?: string }) {
  return (
    <div class="secret-once">
      <p class="alert alert-warning" role="status">
        Copy the {what} now. You won't be able to see it again.
      </p>
      <label for="secret-value">Secret</label>
      <div class="secret-row">
        <input id="secret-value" class="mono" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
        <CopyButton text={secret} />
      </div>
      <p class="help">Store it in an environment variable or a secret manager, never in source code or a screenshot.</p>
      <div class="actions">
        <button type="button" class="button primary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
