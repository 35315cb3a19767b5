export function RoleBadge({ role }: { role: string }) {
  return (
    <span className={`badge badge-role badge-${role}`} data-role={role}>
      {role}
    </span>
  );
}
