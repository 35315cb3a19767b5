/** Wire types for the platform's REST API (`/api/v1/...`) and probes. */

export interface TokenPair {
  access: string;
  refresh: string;
}

export type Role = "viewer" | "trader" | "operator";

export interface Me {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  /** IANA zone name, e.g. "Europe/London". */
  timezone: string;
  roles: Role[];
  permissions: string[];
  is_staff: boolean;
  /** ISO-8601 timestamp. */
  date_joined: string;
  /** ISO-8601 timestamp, or null if the user never logged in. */
  last_login: string | null;
}

/** The platform's single error envelope. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    fields?: Record<string, string[]>;
  };
}

export interface ReadyCheck {
  ok: boolean;
  latency_ms?: number;
  error?: string;
}

export interface CeleryQueueCheck {
  ok: boolean;
  workers: string[];
}

export interface CeleryCheck extends ReadyCheck {
  queues?: Record<string, CeleryQueueCheck>;
}

export interface ReadyzResponse {
  status: "ok" | "fail";
  checks: {
    database?: ReadyCheck;
    redis?: ReadyCheck;
    channel_layer?: ReadyCheck;
    celery?: CeleryCheck;
    [name: string]: ReadyCheck | CeleryCheck | undefined;
  };
}
