import { Outlet } from "react-router-dom";
import { SideNav } from "./SideNav";
import { TopBar } from "./TopBar";

export function AppShell() {
  return (
    <div className="shell">
      <TopBar />
      <SideNav />
      <main className="shell-main">
        <Outlet />
      </main>
    </div>
  );
}
