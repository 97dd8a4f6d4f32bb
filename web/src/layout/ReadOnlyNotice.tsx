/** What a member sees where owners and admins manage things. */
export function ReadOnlyNotice({ what }: { what: string }) {
  return (
    <section class="card notice" aria-labelledby="read-only-title">
      <h2 id="read-only-title">{what}: read-only for members</h2>
      <p>Only owners and admins manage {what.toLowerCase()}. Ask an owner of this workspace if you need a change.</p>
    </section>
  );
}
