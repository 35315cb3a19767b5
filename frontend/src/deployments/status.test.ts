import { describe, expect, it } from "vitest";
import type { Deployment } from "../api/types";
import {
  allowedActions,
  applyDeploymentEvent,
  deploymentOfRef,
  isDeploymentPush,
  mergeDeployment,
} from "./status";

const ROW = {
  id: 4,
  status: "running",
  bars_seen: 100,
  progress: 0.1,
  error: "",
  mode: "replay",
} as Deployment;

const push = (change: Record<string, unknown>) => ({ type: "deployment" as const, id: 4, status: "running" as const, bars_seen: 100, progress: 0.1, ...change });

describe("deployment transitions", () => {
  it("offers what the server allows from each status", () => {
    expect(allowedActions("running")).toEqual(["pause", "stop"]);
    expect(allowedActions("paused")).toEqual(["resume", "stop"]);
    expect(allowedActions("failed")).toEqual(["stop"]);
    expect(allowedActions("stopped")).toEqual([]);
    expect(allowedActions("finished")).toEqual([]);
  });
});

describe("deployment pushes", () => {
  it("recognises them", () => {
    expect(isDeploymentPush(push({}))).toBe(true);
    expect(isDeploymentPush(push({ status: "exploded" }) as never)).toBe(false);
  });

  it("move the bars and progress forward and follow pause and resume", () => {
    const a = applyDeploymentEvent(ROW, push({ bars_seen: 200, progress: 0.2 }));
    expect(a).toMatchObject({ bars_seen: 200, progress: 0.2 });
    const paused = applyDeploymentEvent(a, push({ status: "paused", bars_seen: 150, progress: 0.15 }));
    expect(paused).toMatchObject({ status: "paused", bars_seen: 200, progress: 0.2 });
    expect(applyDeploymentEvent(paused, push({ status: "running", bars_seen: 250, progress: 0.25 }))).toMatchObject({ status: "running", bars_seen: 250 });
  });

  it("never bring a stopped or finished deployment back", () => {
    const stopped = applyDeploymentEvent(ROW, push({ status: "stopped" }));
    expect(stopped.status).toBe("stopped");
    expect(applyDeploymentEvent(stopped, push({ status: "running", bars_seen: 300 }))).toBe(stopped);
    expect(applyDeploymentEvent(stopped, push({ status: "finished" }))).toBe(stopped);
    const finished = applyDeploymentEvent(ROW, push({ status: "finished", progress: 1, bars_seen: 1000 }));
    expect(applyDeploymentEvent(finished, push({ status: "paused" }))).toBe(finished);
  });

  it("carry a failure's message; a failed one may still be stopped", () => {
    const failed = applyDeploymentEvent(ROW, push({ status: "failed", error: "No bars." }));
    expect(failed).toMatchObject({ status: "failed", error: "No bars." });
    expect(applyDeploymentEvent(failed, push({ status: "running" }))).toBe(failed);
    expect(applyDeploymentEvent(failed, push({ status: "stopped" })).status).toBe("stopped");
  });

  it("leave other deployments and unchanged rows alone", () => {
    expect(applyDeploymentEvent(ROW, { ...push({}), id: 9 })).toBe(ROW);
    expect(applyDeploymentEvent(ROW, push({}))).toBe(ROW);
  });

  it("are kept when a fetch answers behind them", () => {
    const held = { ...ROW, status: "stopped", bars_seen: 500, progress: 0.5 } as Deployment;
    expect(mergeDeployment(held, { ...ROW, bars_seen: 300 })).toMatchObject({ status: "stopped", bars_seen: 500, progress: 0.5 });
    expect(mergeDeployment({ ...ROW, status: "paused" }, ROW).status).toBe("running"); // paused ⇄ running: the fetch says
  });

  it("find the deployment of an order by its source_ref", () => {
    expect(deploymentOfRef("deployment:12")).toBe(12);
    expect(deploymentOfRef("algo:3")).toBeNull();
    expect(deploymentOfRef(undefined)).toBeNull();
  });
});
