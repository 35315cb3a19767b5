import { useState } from "react";
import type { TradingAccount } from "../api/types";

function stored(storageKey: string): number | null {
  try {
    const raw = window.localStorage.getItem(storageKey);
    return raw ? Number(raw) : null;
  } catch {
    return null;
  }
}

/**
 * The account a page shows: the one chosen (remembered under `storageKey`)
 * while it is still listed, else `fallback(accounts)`.
 */
export function useAccountChoice(
  accounts: TradingAccount[],
  storageKey: string,
  fallback: (accounts: TradingAccount[]) => TradingAccount | null = (list) => list[0] ?? null,
) {
  const [chosen, setChosen] = useState<number | null>(() => stored(storageKey));
  const account = accounts.find((a) => a.id === chosen) ?? fallback(accounts);
  const choose = (id: number) => {
    setChosen(id);
    try {
      window.localStorage.setItem(storageKey, String(id));
    } catch {
      /* storage unavailable */
    }
  };
  return { account, choose };
}

interface Props {
  accounts: TradingAccount[];
  value: number | null;
  onChange: (id: number) => void;
  /** The signed-in user's name: other owners' accounts show who owns them. */
  username: string | undefined;
  testId: string;
}

/** "Account" picker of the trading desk and the risk page. */
export function AccountSelect({ accounts, value, onChange, username, testId }: Props) {
  return (
    <label className="account-select">
      <span className="field-label">Account</span>
      <select
        className="input input-sm"
        value={value ?? ""}
        onChange={(e) => onChange(Number(e.target.value))}
        data-testid={testId}
      >
        {accounts.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name} · {a.currency}
            {a.owner !== username ? ` · ${a.owner}` : ""}
          </option>
        ))}
      </select>
    </label>
  );
}
