import { useAuth } from "../auth/AuthContext";
import { RoleBadge } from "../components/RoleBadge";

export function TopBar() {
  const { user, logout } = useAuth();
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">FX Platform</span>
      </div>
      <div className="topbar-spacer" />
      {user && (
        <div className="current-user" data-testid="current-user">
          <span className="current-user-name" title={user.email || user.username}>
            {user.username}
          </span>
          <span className="badges">
            {user.roles.map((role) => (
              <RoleBadge key={role} role={role} />
            ))}
            {user.is_staff && <span className="badge badge-staff">staff</span>}
          </span>
        </div>
      )}
      <button type="button" className="btn btn-ghost btn-sm" onClick={() => void logout()} data-testid="logout">
        Logout
      </button>
    </header>
  );
}
