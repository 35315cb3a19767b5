import { NavLink } from "react-router-dom";
import { NAV_ITEMS } from "../app/nav";
import { useAuth } from "../auth/AuthContext";

export function SideNav() {
  const { user } = useAuth();
  const items = NAV_ITEMS.filter(
    (item) => !item.roles || item.roles.some((role) => user?.roles.includes(role)),
  );
  return (
    <nav className="sidenav" aria-label="Sections">
      <ul>
        {items.map((item) =>
          item.enabled ? (
            <li key={item.id}>
              <NavLink
                to={item.path}
                end={item.path === "/"}
                className={({ isActive }) => `nav-item${isActive ? " active" : ""}`}
                data-testid={`nav-${item.id}`}
              >
                {item.label}
              </NavLink>
            </li>
          ) : (
            <li key={item.id}>
              <span
                className="nav-item disabled"
                aria-disabled="true"
                title="Coming soon"
                data-testid={`nav-${item.id}`}
              >
                {item.label}
                <span className="soon">soon</span>
              </span>
            </li>
          ),
        )}
      </ul>
    </nav>
  );
}
