import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { getSession } from "../auth/session";
import { accessToken, errorBody, jsonResponse, mockFetch, sampleMe, sampleReadyz } from "../test/helpers";
import { renderApp } from "../test/renderApp";

function fillAndSubmit(username: string, password: string) {
  fireEvent.change(screen.getByTestId("login-username"), { target: { value: username } });
  fireEvent.change(screen.getByTestId("login-password"), { target: { value: password } });
  fireEvent.click(screen.getByTestId("login-submit"));
}

describe("LoginPage", () => {
  it("renders the form with the username focused", () => {
    mockFetch(() => jsonResponse(500));
    renderApp("/login");
    expect(screen.getByTestId("login-username")).toBe(document.activeElement);
    expect(screen.getByTestId("login-password")).toHaveProperty("type", "password");
    expect(screen.getByTestId("login-submit")).toHaveProperty("disabled", false);
    expect(screen.queryByTestId("login-error")).toBeNull();
  });

  it("shows the API error message on failed login", async () => {
    const fetch = mockFetch(() =>
      jsonResponse(401, errorBody("authentication_failed", "Invalid username or password.")),
    );
    renderApp("/login");
    fillAndSubmit("alice", "wrong");

    const alert = await screen.findByTestId("login-error");
    expect(alert.textContent).toContain("Invalid username or password.");
    expect(alert.getAttribute("data-code")).toBe("authentication_failed");
    expect(fetch.calls()).toHaveLength(1);
    expect(fetch.calls()[0]).toMatchObject({
      url: "/api/v1/auth/token/",
      method: "POST",
      body: { username: "alice", password: "wrong" },
    });
    expect(screen.getByTestId("login-submit")).toHaveProperty("disabled", false);
    expect(getSession()).toBeNull();
  });

  it("shows an account_locked message as sent by the server", async () => {
    mockFetch(() =>
      jsonResponse(403, errorBody("account_locked", "Too many failed attempts. Try again after 12:15 UTC.")),
    );
    renderApp("/login");
    fillAndSubmit("alice", "wrong");
    expect((await screen.findByTestId("login-error")).textContent).toContain(
      "Too many failed attempts. Try again after 12:15 UTC.",
    );
  });

  it("shows per-field validation messages next to the fields", async () => {
    mockFetch(() =>
      jsonResponse(
        400,
        errorBody("validation_error", "Invalid input.", {
          username: ["This field may not be blank."],
          password: ["This field may not be blank."],
          non_field_errors: ["Something else."],
        }),
      ),
    );
    renderApp("/login");
    fireEvent.click(screen.getByTestId("login-submit"));

    expect((await screen.findByTestId("login-error")).textContent).toContain("Invalid input.");
    expect(screen.getByTestId("login-error").textContent).toContain("Something else.");
    expect(screen.getByTestId("login-username-error").textContent).toBe("This field may not be blank.");
    expect(screen.getByTestId("login-password-error").textContent).toBe("This field may not be blank.");
    expect(screen.getByTestId("login-username").getAttribute("aria-invalid")).toBe("true");
  });

  it("disables the submit button while the request is pending", async () => {
    let respond!: (r: Response) => void;
    mockFetch(() => new Promise<Response>((resolve) => (respond = resolve)));
    renderApp("/login");
    fillAndSubmit("alice", "pw");

    await waitFor(() => expect(screen.getByTestId("login-submit")).toHaveProperty("disabled", true));
    respond(jsonResponse(401, errorBody("authentication_failed", "Nope.")));
    await screen.findByTestId("login-error");
    expect(screen.getByTestId("login-submit")).toHaveProperty("disabled", false);
  });

  it("logs in, stores the session and shows the app shell", async () => {
    const access = accessToken(300);
    mockFetch(({ url }) => {
      if (url === "/api/v1/auth/token/") return jsonResponse(200, { access, refresh: "r1" });
      if (url === "/api/v1/me/") return jsonResponse(200, sampleMe);
      if (url === "/readyz") return jsonResponse(200, sampleReadyz);
      return jsonResponse(404, errorBody("not_found", "Not found."));
    });
    renderApp("/login");
    fillAndSubmit("alice", "secret");

    const user = await screen.findByTestId("current-user");
    expect(user.textContent).toContain("alice");
    expect(user.querySelector('[data-role="trader"]')).toBeTruthy();
    expect(getSession()).toEqual({ access, refresh: "r1" });
    expect(await screen.findByTestId("status-card")).toBeTruthy();
  });
});
