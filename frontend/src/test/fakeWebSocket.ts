import { vi } from "vitest";
import type { WebSocketLike } from "../live/pricesSocket";

/**
 * In-memory WebSocket: tests drive the server side (`open`, `receive`,
 * `serverClose`) and inspect what the client sent (`sent`, `sentActions`).
 */
export class FakeWebSocket implements WebSocketLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  /** Every socket created since the last `reset()`, oldest first. */
  static instances: FakeWebSocket[] = [];

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static get last(): FakeWebSocket {
    const ws = FakeWebSocket.instances.at(-1);
    if (!ws) throw new Error("no FakeWebSocket was created");
    return ws;
  }

  /** Install as the global WebSocket (undone by vitest's unstubGlobals). */
  static install(): void {
    FakeWebSocket.reset();
    vi.stubGlobal("WebSocket", FakeWebSocket);
  }

  readonly url: string;
  readyState = FakeWebSocket.CONNECTING;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: string[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  /** The `token` query parameter the client connected with. */
  get token(): string | null {
    return new URL(this.url).searchParams.get("token");
  }

  /** Parsed client messages. */
  get messages(): Record<string, unknown>[] {
    return this.sent.map((raw) => JSON.parse(raw) as Record<string, unknown>);
  }

  /** Client messages with the given `action`. */
  sentActions(action: string): Record<string, unknown>[] {
    return this.messages.filter((m) => m.action === action);
  }

  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("InvalidStateError: socket not open");
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.closedByClient = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.(new CloseEvent("close", { code: code ?? 1005, reason: reason ?? "", wasClean: true }));
  }

  // ---- server side -------------------------------------------------------

  open(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.(new Event("open"));
  }

  receive(message: unknown): void {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(message) }));
  }

  /** Open and send the server's `welcome` (what an authenticated connection gets). */
  accept(): void {
    this.open();
    this.receive({ type: "welcome", user: "alice" });
  }

  serverClose(code = 1006, reason = ""): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onerror?.(new Event("error"));
    this.onclose?.(new CloseEvent("close", { code, reason, wasClean: code !== 1006 }));
  }
}
