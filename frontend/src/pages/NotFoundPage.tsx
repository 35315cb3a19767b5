import { Link, useLocation } from "react-router-dom";

export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <div className="splash" data-testid="not-found">
      <div className="panel splash-panel">
        <div className="big-code">404</div>
        <h1>Page not found</h1>
        <p className="muted">
          Nothing lives at <code>{pathname}</code>.
        </p>
        <Link className="btn btn-primary" to="/">
          Back to overview
        </Link>
      </div>
    </div>
  );
}
