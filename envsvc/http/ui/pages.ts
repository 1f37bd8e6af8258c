// The dashboard's pages: sign-in, and the environment table with its create, extend and destroy
// forms. Plain server-rendered HTML; the one inline script (nonce'd) refreshes the table.
import { envView, isBusy } from "../../core/env-view.ts";
import type { Actor, Environment } from "../../core/model.ts";
import { CSRF_FIELD, type Flash } from "../session.ts";
import { html, type SafeHtml, trusted } from "./html.ts";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{display:flex;justify-content:space-between;align-items:center;padding:12px 24px;background:#1d2330;color:#fff}
header h1{font-size:18px;margin:0}
main{padding:16px 24px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 16px;margin-bottom:16px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{font-weight:600;color:#5b6475}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.status-creating,.status-destroying{background:#fff3cd;color:#7a5a00}
.status-ready{background:#d4edda;color:#155724}
.status-failed{background:#f8d7da;color:#721c24}
.status-destroyed{background:#e2e3e5;color:#383d41}
.flash{padding:8px 12px;border-radius:4px;margin-bottom:12px}
.flash-ok{background:#d4edda}.flash-error{background:#f8d7da}
.step{display:block;color:#5b6475;font-size:12px}
form.inline{display:inline}
input[type=number]{width:4em}
.muted{color:#8a93a3}
`;

function layout(title: string, nonce: string, body: SafeHtml, script?: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style nonce="${nonce}">
          ${trusted(STYLE)}
        </style>
      </head>
      <body>
        ${body}
        ${
          script
            ? html`<script nonce="${nonce}">
                ${script};
              </script>`
            : ""
        }
      </body>
    </html>`;
}

export function signinPage(opts: { nonce: string; csrf: string; error?: string }): string {
  const body = html`<header><h1>envsvc · test shops</h1></header>
    <main>
      <section>
        <h2>Sign in</h2>
        ${opts.error ? html`<p class="flash flash-error" role="alert">${opts.error}</p>` : ""}
        <form method="post" action="/signin">
          <input type="hidden" name="${CSRF_FIELD}" value="${opts.csrf}" />
          <label
            >Token <input type="password" name="token" autocomplete="current-password" required autofocus
          /></label>
          <button type="submit">Sign in</button>
        </form>
        <p class="muted">Your envsvc API token; the dashboard keeps a session cookie instead of the token.</p>
      </section>
    </main>`;
  return layout("envsvc · sign in", opts.nonce, body).value;
}

export interface RowContext {
  actor: Actor;
  csrf: string;
  now: number;
  /** Latest step of the operations this session started, by env id. */
  steps: Map<string, string>;
}

function canAct(actor: Actor, env: Environment): boolean {
  return actor.role === "admin" || env.owner === actor.userId;
}

function actions(env: Environment, ctx: RowContext): SafeHtml | string {
  if (!canAct(ctx.actor, env) || env.status === "destroyed" || env.status === "destroying") return "";
  const csrf = html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}" />`;
  const extend = html`<form class="inline" method="post" action="/ui/envs/${env.id}/extend">
    ${csrf}
    <input type="number" name="hours" value="4" min="1" step="1" aria-label="hours to extend ${env.id}" />
    <button type="submit">Extend</button>
  </form>`;
  const destroy =
    env.status === "creating"
      ? ""
      : html` <form
          class="inline"
          method="post"
          action="/ui/envs/${env.id}/destroy"
          data-confirm="Destroy ${env.id}?"
        >
          ${csrf} <button type="submit">Destroy</button>
        </form>`;
  return html`${extend}${destroy}`;
}

function row(env: Environment, ctx: RowContext): SafeHtml {
  const v = envView(env, ctx.now);
  const step = isBusy(env) ? ctx.steps.get(env.id) : undefined;
  return html`<tr data-env="${env.id}" data-status="${env.status}">
    <td>
      <strong>${env.id}</strong><br /><span class="muted"
        >${env.shop}${env.branch ? html` @ ${env.branch}` : ""}</span
      >
    </td>
    <td>
      <span class="status status-${env.status}">${env.status}</span
      >${step ? html`<span class="step">${step}</span>` : ""}
    </td>
    <td>${env.owner}</td>
    <td>
      ${env.url ? html`<a href="${env.url}" rel="noopener">${env.url}</a>` : html`<span class="muted">—</span>`}
    </td>
    <td>${v.age}</td>
    <td>${v.idle}</td>
    <td title="${env.expiresAt.toISOString()}">${v.timeLeft}</td>
    <td>${v.costSoFar}</td>
    <td>${actions(env, ctx)}</td>
  </tr>`;
}

export function rowsHtml(envs: Environment[], ctx: RowContext): string {
  if (!envs.length)
    return html`<tr>
      <td colspan="9" class="muted">No environments yet.</td>
    </tr>`.value;
  // Live ones first, newest first; destroyed ones stay visible below for their final cost.
  const sorted = [...envs].sort(
    (a, b) =>
      Number(a.status === "destroyed") - Number(b.status === "destroyed") ||
      b.createdAt.getTime() - a.createdAt.getTime(),
  );
  return sorted.map((e) => row(e, ctx).value).join("\n");
}

export function dashboardPage(opts: {
  nonce: string;
  ctx: RowContext;
  envs: Environment[];
  flash?: Flash;
  pollBusyMs: number;
  pollIdleMs: number;
}): string {
  const { ctx } = opts;
  const busy = opts.envs.some(isBusy);
  const body = html`<header>
      <h1>envsvc · test shops</h1>
      <div>
        ${ctx.actor.name} (${ctx.actor.role})
        <form class="inline" method="post" action="/signout">
          <input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}" /><button type="submit">
            Sign out
          </button>
        </form>
      </div>
    </header>
    <main>
      ${opts.flash ? html`<p class="flash flash-${opts.flash.kind}" role="status">${opts.flash.text}</p>` : ""}
      <section>
        <h2>New test shop</h2>
        <form method="post" action="/ui/envs" id="create">
          <input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}" />
          <label>Shop <input name="shop" required pattern="[a-z][a-z0-9-]*" placeholder="sakura" /></label>
          <label>Branch <input name="branch" placeholder="main" /></label>
          <label>Source <input name="source" placeholder="demo export" /></label>
          <label>TTL hours <input type="number" name="ttlHours" min="1" step="1" placeholder="8" /></label>
          <button type="submit">Create</button>
        </form>
      </section>
      <section>
        <h2>Environments</h2>
        <table>
          <thead>
            <tr>
              <th>Environment</th>
              <th>Status</th>
              <th>Owner</th>
              <th>URL</th>
              <th>Age</th>
              <th>Idle</th>
              <th>Time left</th>
              <th>Cost so far</th>
              <th></th>
            </tr>
          </thead>
          <tbody id="envs" data-busy="${String(busy)}">
            ${trusted(rowsHtml(opts.envs, ctx))}
          </tbody>
        </table>
        <p class="muted">Updated <span id="updated">${new Date(ctx.now).toISOString()}</span></p>
      </section>
    </main>`;
  return layout("envsvc · test shops", opts.nonce, body, liveScript(opts.pollBusyMs, opts.pollIdleMs)).value;
}

/** Polls the rows: fast while an operation runs, slowly otherwise; never under the user's cursor. */
function liveScript(busyMs: number, idleMs: number): SafeHtml {
  return trusted(`(() => {
  const tbody = document.getElementById("envs");
  const updated = document.getElementById("updated");
  let busy = tbody.dataset.busy === "true";
  let last = "";
  async function poll() {
    try {
      const res = await fetch("/ui/rows", { credentials: "same-origin", headers: { accept: "application/json" } });
      if (res.status === 401) return location.reload();
      if (res.ok) {
        const data = await res.json();
        busy = data.busy;
        if (data.html !== last && !tbody.contains(document.activeElement)) {
          tbody.innerHTML = data.html;
          last = data.html;
        }
        updated.textContent = data.updatedAt;
      }
    } catch (e) {}
    setTimeout(poll, busy ? ${busyMs} : ${idleMs});
  }
  setTimeout(poll, busy ? ${busyMs} : ${idleMs});
  document.addEventListener("submit", (e) => {
    const ask = e.target.dataset && e.target.dataset.confirm;
    if (ask && !confirm(ask)) e.preventDefault();
  });
})();`);
}
