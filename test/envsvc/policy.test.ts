import { describe, expect, it } from "vitest";
import { decideIdle, extendedExpiry, initialExpiry } from "../../envsvc/core/policy.ts";
import { newEnvId, sqlNameOf } from "../../envsvc/core/ids.ts";
import { ENV_ID_PATTERN, stackNameOf } from "../../envsvc/core/model.ts";

const H = 3_600_000;
const M = 60_000;
const policy = { idleHours: 4, warnMinutes: 30, maxLifetimeHours: 72, defaultTtlHours: 24 };
const t0 = new Date("2026-11-30T00:00:00Z").getTime();
const at = (ms: number) => new Date(t0 + ms);

describe("idle policy", () => {
  const env = { lastActivityAt: at(0), expiresAt: at(48 * H), idleWarnedAt: null };

  it("keeps an env until the warning lead time before idleness", () => {
    expect(decideIdle(env, at(3 * H + 29 * M), policy)).toEqual({ kind: "keep" });
  });

  it("warns with the teardown time once within the lead time", () => {
    expect(decideIdle(env, at(3 * H + 30 * M), policy)).toEqual({ kind: "warn", teardownAt: at(4 * H) });
  });

  it("gives at least the lead time after a late warning (e.g. after the service was down)", () => {
    expect(decideIdle(env, at(10 * H), policy)).toEqual({ kind: "warn", teardownAt: at(10 * H + 30 * M) });
    const warnedLate = { ...env, idleWarnedAt: at(10 * H) };
    expect(decideIdle(warnedLate, at(10 * H + 29 * M), policy)).toEqual({ kind: "keep" });
    expect(decideIdle(warnedLate, at(10 * H + 30 * M), policy)).toEqual({ kind: "teardown", reason: "idle" });
  });

  it("tears down a warned env at idleness, and activity after the warning cancels it", () => {
    const warned = { ...env, idleWarnedAt: at(3 * H + 30 * M) };
    expect(decideIdle(warned, at(4 * H), policy)).toEqual({ kind: "teardown", reason: "idle" });
    const active = { ...warned, lastActivityAt: at(3 * H + 45 * M) };
    expect(decideIdle(active, at(4 * H), policy)).toEqual({ kind: "keep" });
  });

  it("tears down at expiry whatever the activity", () => {
    expect(decideIdle({ ...env, lastActivityAt: at(48 * H) }, at(48 * H), policy)).toEqual({
      kind: "teardown",
      reason: "expired",
    });
  });
});

describe("expiry", () => {
  it("uses the TTL or the default, capped by the maximum lifetime", () => {
    expect(initialExpiry(at(0), 2, policy)).toEqual(at(2 * H));
    expect(initialExpiry(at(0), undefined, policy)).toEqual(at(24 * H));
    expect(initialExpiry(at(0), 500, policy)).toEqual(at(72 * H));
  });

  it("extends from the later of now and the expiry, never past the cap", () => {
    const env = { createdAt: at(0), expiresAt: at(10 * H) };
    expect(extendedExpiry(env, 5, at(1 * H), policy)).toEqual(at(15 * H));
    expect(extendedExpiry({ ...env, expiresAt: at(1 * H) }, 5, at(3 * H), policy)).toEqual(at(8 * H));
    expect(extendedExpiry(env, 500, at(1 * H), policy)).toEqual(at(72 * H));
  });
});

describe("env ids", () => {
  it("are safe for stack names, database names and DNS labels", () => {
    let seed = 0;
    const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 31 + 7) % 256));
    for (const shop of ["sakura", "a-very-long-shop-name-that-goes-on", "x1", "shop-"]) {
      const id = newEnvId(shop.replace(/-$/, "") || "x", random);
      expect(id).toMatch(ENV_ID_PATTERN);
      expect(id.length).toBeLessThanOrEqual(20);
      expect(id).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/); // RFC 1123 label
      expect(sqlNameOf(id)).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
      expect(stackNameOf({ shop, id })).toMatch(/^[A-Za-z0-9_.-]+$/);
    }
  });
});
