import { useAuth } from "../auth/AuthContext";
import { DataSourcesCard } from "../components/DataSourcesCard";
import { MarketWatch } from "../components/MarketWatch";
import { ProfileCard } from "../components/ProfileCard";
import { StatusCard } from "../components/StatusCard";

export function OverviewPage() {
  const { user } = useAuth();
  return (
    <div className="page">
      <div className="page-header">
        <h1>Overview</h1>
      </div>
      <div className="grid">
        <MarketWatch />
        <DataSourcesCard />
        <ProfileCard />
        <StatusCard />
        <section className="card" data-testid="links-card" aria-labelledby="links-card-title">
          <header className="card-header">
            <h2 id="links-card-title">Links</h2>
          </header>
          <ul className="link-list">
            <li>
              <a href="/api/docs/" target="_blank" rel="noreferrer" data-testid="link-api-docs">
                API docs
              </a>
              <span className="muted small">OpenAPI / Swagger UI</span>
            </li>
            {user?.is_staff && (
              <li>
                <a href="/admin/" target="_blank" rel="noreferrer" data-testid="link-admin">
                  Admin
                </a>
                <span className="muted small">Django admin</span>
              </li>
            )}
          </ul>
        </section>
      </div>
    </div>
  );
}
