import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { QR_TYPES, type QrCode, type QrStyle, type QrType } from '../api/types';
import { Alert } from '../ui/Dialog';
import { cleanContent, CONTENT_FIELDS, previewText, TYPE_LABEL } from './content';
import { parseTags } from './qr-api';
import { QrPreview } from './QrPreview';

const DEFAULT_STYLE: QrStyle = { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' };

/** The style as the server accepts it: a margin being typed ("", 40) is clamped rather than sent. */
function validStyle(style: QrStyle): QrStyle {
  const margin = Number.isFinite(style.margin) ? Math.min(16, Math.max(0, Math.round(style.margin))) : 4;
  return { ...style, margin };
}

interface QrFormProps {
  /** The code being edited; absent when creating. */
  existing?: QrCode;
  submitLabel: string;
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  onCancel?: () => void;
}

/** Create or edit a code: type and content (create), name, destination, tags and style, with a live preview. */
export function QrForm({ existing, submitLabel, onSubmit, onCancel }: QrFormProps) {
  const [type, setType] = useState<QrType>(existing?.type ?? 'url');
  const [dynamic, setDynamic] = useState(existing ? existing.mode === 'dynamic' : true);
  const [name, setName] = useState(existing?.name ?? '');
  const [destination, setDestination] = useState(existing?.destination_url ?? '');
  const [content, setContent] = useState<Record<string, string | boolean>>((existing?.content as Record<string, string | boolean> | null) ?? {});
  const [tags, setTags] = useState((existing?.tags ?? []).join(', '));
  const [style, setStyle] = useState<QrStyle>(existing?.style ?? DEFAULT_STYLE);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const idPrefix = existing ? 'edit' : 'new';
  const editing = existing !== undefined;
  const isStatic = !dynamic || type !== 'url';
  const editableContent = type !== 'url' && (!editing || existing.mode === 'static');

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { name: name.trim(), tags: parseTags(tags), style };
    if (!editing) {
      body.type = type;
      body.mode = isStatic ? 'static' : 'dynamic';
    }
    if (type === 'url') body.destination_url = destination.trim();
    else if (editableContent) body.content = cleanContent(content);
    try {
      await onSubmit(body);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  const field = (key: string) => `${idPrefix}-qr-${key}`;
  return (
    <form class="qr-form" onSubmit={submit}>
      <div class="qr-form-fields">
        {error ? <Alert>{error}</Alert> : null}
        <label for={field('name')}>Name</label>
        <input id={field('name')} required maxLength={120} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        {!editing ? (
          <>
            <label for={field('type')}>Type</label>
            <select id={field('type')} value={type} onChange={(e) => setType(e.currentTarget.value as QrType)}>
              {QR_TYPES.map((t) => (
                <option key={t} value={t}>
                  {TYPE_LABEL[t]}
                </option>
              ))}
            </select>
          </>
        ) : null}
        {type === 'url' ? (
          <>
            {!editing ? (
              <label class="check">
                <input type="checkbox" checked={dynamic} onChange={(e) => setDynamic(e.currentTarget.checked)} aria-describedby={field('dynamic-help')} /> Dynamic (a short link you can change later, with scan analytics)
              </label>
            ) : null}
            <p id={field('dynamic-help')} class="help">
              {type === 'url' && !isStatic ? 'The code holds a short link that redirects to the destination.' : 'The code holds the destination itself; it cannot be changed after printing and has no analytics.'}
            </p>
            <label for={field('destination')}>Destination URL</label>
            <input id={field('destination')} type="url" required placeholder="https://example.com/spring-sale" maxLength={2048} value={destination} onInput={(e) => setDestination(e.currentTarget.value)} />
          </>
        ) : editableContent ? (
          <fieldset>
            <legend>{TYPE_LABEL[type]} content</legend>
            {CONTENT_FIELDS[type].map((f) =>
              f.kind === 'checkbox' ? (
                <label key={f.name} class="check">
                  <input type="checkbox" checked={Boolean(content[f.name])} onChange={(e) => setContent({ ...content, [f.name]: e.currentTarget.checked })} /> {f.label}
                </label>
              ) : (
                <div key={f.name}>
                  <label for={field(f.name)}>{f.label}</label>
                  {f.kind === 'textarea' ? (
                    <textarea id={field(f.name)} required={f.required} rows={3} value={String(content[f.name] ?? '')} onInput={(e) => setContent({ ...content, [f.name]: e.currentTarget.value })} />
                  ) : f.kind === 'select' ? (
                    <select id={field(f.name)} value={String(content[f.name] ?? f.options?.[0] ?? '')} onChange={(e) => setContent({ ...content, [f.name]: e.currentTarget.value })}>
                      {f.options?.map((o) => (
                        <option key={o} value={o}>
                          {o}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <input id={field(f.name)} type={(f.kind ?? 'text') as 'text'} required={f.required} value={String(content[f.name] ?? '')} onInput={(e) => setContent({ ...content, [f.name]: e.currentTarget.value })} />
                  )}
                </div>
              ),
            )}
          </fieldset>
        ) : null}
        <label for={field('tags')}>Tags</label>
        <input id={field('tags')} aria-describedby={field('tags-help')} value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        <p id={field('tags-help')} class="help">
          Separated by commas, e.g. “spring, flyer”.
        </p>
        <fieldset class="style-fields">
          <legend>Style</legend>
          <div>
            <label for={field('fg')}>Foreground</label>
            <input id={field('fg')} type="color" value={style.foreground} onInput={(e) => setStyle({ ...style, foreground: e.currentTarget.value })} />
          </div>
          <div>
            <label for={field('bg')}>Background</label>
            <input id={field('bg')} type="color" value={style.background} onInput={(e) => setStyle({ ...style, background: e.currentTarget.value })} />
          </div>
          <div>
            <label for={field('margin')}>Margin (modules)</label>
            <input id={field('margin')} type="number" min={0} max={16} value={style.margin} onInput={(e) => setStyle({ ...style, margin: Number(e.currentTarget.value) })} />
          </div>
          <div>
            <label for={field('ec')}>Error correction</label>
            <select id={field('ec')} value={style.error_correction} onChange={(e) => setStyle({ ...style, error_correction: e.currentTarget.value as QrStyle['error_correction'] })}>
              <option value="L">L (7%)</option>
              <option value="M">M (15%)</option>
              <option value="Q">Q (25%)</option>
              <option value="H">H (30%)</option>
            </select>
          </div>
        </fieldset>
        <div class="actions">
          {onCancel ? (
            <button type="button" class="button" onClick={onCancel}>
              Cancel
            </button>
          ) : null}
          <button type="submit" class="button primary" disabled={busy}>
            {submitLabel}
          </button>
        </div>
      </div>
      <QrPreview text={editing && existing.short_url ? existing.short_url : previewText(type, destination, editing && !editableContent ? ((existing.content as Record<string, string | boolean> | null) ?? {}) : content, !isStatic)} style={validStyle(style)} />
    </form>
  );
}
