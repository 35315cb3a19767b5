import { useMe } from "../api/queries";
import { formatDateTime } from "./format";
import { RoleBadge } from "./RoleBadge";

export function ProfileCard() {
  const { data: me, isPending, isError, error } = useMe();

  return (
    <section className="card" data-testid="profile-card" aria-labelledby="profile-card-title">
      <header className="card-header">
        <h2 id="profile-card-title">Profile</h2>
      </header>
      {isPending && <div className="muted pad">Loading…</div>}
      {isError && (
        <div className="alert alert-error compact" role="alert">
          {error.message}
        </div>
      )}
      {me && (
        <dl className="kv">
          <dt>Username</dt>
          <dd data-testid="profile-username">{me.username}</dd>
          <dt>Name</dt>
          <dd>{[me.first_name, me.last_name].filter(Boolean).join(" ") || "—"}</dd>
          <dt>Email</dt>
          <dd>{me.email || "—"}</dd>
          <dt>Timezone</dt>
          <dd>{me.timezone || "—"}</dd>
          <dt>Roles</dt>
          <dd className="badges">
            {me.roles.length ? me.roles.map((role) => <RoleBadge key={role} role={role} />) : "—"}
          </dd>
          <dt>Staff</dt>
          <dd>{me.is_staff ? "yes" : "no"}</dd>
          <dt>Permissions</dt>
          <dd>
            {me.permissions.length === 0 ? (
              "—"
            ) : (
              <details>
                <summary>{me.permissions.length} granted</summary>
                <ul className="perm-list">
                  {[...me.permissions].sort().map((perm) => (
                    <li key={perm}>
                      <code>{perm}</code>
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </dd>
          <dt>Joined</dt>
          <dd className="num">{formatDateTime(me.date_joined, me.timezone)}</dd>
          <dt>Last login</dt>
          <dd className="num">{formatDateTime(me.last_login, me.timezone)}</dd>
        </dl>
      )}
    </section>
  );
}
