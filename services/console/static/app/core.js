// The workspace's core: session, language, DOM builder, API calls, banners, routing, live events, drafts.
import { LABELS, STRINGS } from "./strings.js";

export const state = {
  token: sessionStorage.getItem("vocdesk.token"),
  me: null,
  lang: localStorage.getItem("vocdesk.lang") || "th",
  cursor: Number(sessionStorage.getItem("vocdesk.cursor") || 0),
  units: [],
  people: [],
};
const extra = { th: {}, en: {} };

export function addStrings(more) {
  for (const lang of Object.keys(more)) Object.assign(extra[lang], more[lang]);
}

export function t(key, vars = {}) {
  const text = extra[state.lang][key] ?? STRINGS[state.lang][key] ?? STRINGS.th[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function label(value) {
  if (value === null || value === undefined || value === "") return "–";
  return LABELS[state.lang][value] ?? String(value);
}

// h("tag.class#id", {attr: value, onclick: fn, text: "…"}, ...children): elements without innerHTML.
export function h(spec, attrs = {}, ...children) {
  const [, tag, rest] = spec.match(/^([a-z0-9]+)(.*)$/);
  const el = document.createElement(tag);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, reason) { super(reason); this.status = status; }
}

let relogin = null;

// Call the console's API; a 401 asks the user to log in again (the page and drafts stay) and retries.
export async function api(path, { method = "GET", body, form, upload, raw } = {}) {
  const headers = {};
  // The token lives in the tab's session storage (never in a URL or a cookie).
  state.token = sessionStorage.getItem("vocdesk.token");
  if (state.token) headers.Authorization = "Bearer " + state.token;
  let payload;
  if (form) payload = new URLSearchParams(form);
  else if (upload) payload = upload;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let r;
  try {
    r = await fetch("/api/v1" + path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, t("unavailable"));
  }
  if (r.status === 401 && state.token && !path.startsWith("/auth/")) {
    await (relogin ||= askLogin().finally(() => { relogin = null; }));
    return api(path, { method, body, form, upload, raw });
  }
  if (r.status === 204) return null;
  if (raw && r.ok) return r;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    // Only the reason the console gives reaches the page, never an internal address.
    const reason = r.status >= 500 ? t("unavailable") : (data.reason || r.statusText);
    const error = new ApiError(r.status, reason);
    error.retryAfter = r.headers.get("Retry-After");
    throw error;
  }
  return data;
}

// A file the API sends as an attachment, saved through the browser (the token stays in a header).
export async function download(path, name) {
  const r = await api(path, { raw: true });
  const url = URL.createObjectURL(await r.blob());
  const a = h("a", { href: url, download: name });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function logIn(username, password) {
  const data = await api("/auth/token", { method: "POST", form: { username, password } });
  state.token = data.access_token;
  sessionStorage.setItem("vocdesk.token", state.token);
}

export function logOut() {
  sessionStorage.removeItem("vocdesk.token");
  sessionStorage.removeItem("vocdesk.cursor");
  state.token = null;
  location.assign("/");
}

export function loginForm(onDone, { note } = {}) {
  const error = h("div.error#error", { role: "alert" });
  const user = h("input", { name: "username", autocomplete: "username", required: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form.card.login#login", {
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = "";
      try {
        await logIn(user.value, pass.value);
        onDone();
      } catch (err) {
        error.textContent = err.status === 429 ? t("too_many", { s: err.retryAfter || "" }) : t("login_failed");
      }
    },
  },
  note ? h("p", { text: note }) : null,
  h("label", {}, t("username"), user),
  h("label", {}, t("password"), pass),
  h("button.primary", { type: "submit", text: t("login") }),
  error);
  return form;
}

function askLogin() {
  return new Promise((resolve) => {
    const overlay = document.getElementById("relogin");
    overlay.replaceChildren(loginForm(() => { overlay.hidden = true; overlay.replaceChildren(); resolve(); },
      { note: t("session_expired") }));
    overlay.hidden = false;
    overlay.querySelector("input").focus();
  });
}

export function banner(text) {
  const el = document.getElementById("banner");
  el.textContent = text || "";
  el.hidden = !text;
}

export function toast(text, action) {
  const el = h("div.toast", {}, text, action || null);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), 8000);
}

// Routing: one page, views by URL.
const routes = [];
export function route(pattern, render) { routes.push([pattern, render]); }
export function navigate(url) { history.pushState({}, "", url); render(); }
export async function render() {
  const path = location.pathname;
  for (const [pattern, view] of routes) {
    const match = path.match(pattern);
    if (match) {
      const main = document.getElementById("main");
      if (main.cleanup) { main.cleanup(); main.cleanup = null; }
      main.replaceChildren();
      window.scrollTo(0, 0);
      await view(main, ...match.slice(1).map(decodeURIComponent));
      return;
    }
  }
  navigate("/");
}
window.addEventListener("popstate", () => render());
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-nav]");
  if (a && !e.ctrlKey && !e.metaKey && e.button === 0) { e.preventDefault(); navigate(a.getAttribute("href")); }
});

// Live events: a one-time ticket opens the socket; on reconnect the page asks for what it missed.
const listeners = new Set();
let socket = null;
let backoff = 1000;
export function onLive(fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function sendLive(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}
let viewingCase = null;
export function viewing(caseId) { viewingCase = caseId; sendLive(caseId ? { type: "viewing", case: caseId } : { type: "left" }); }

export async function goLive() {
  const mark = document.getElementById("live");
  let ticket;
  try {
    ticket = (await api("/live/ticket", { method: "POST" })).ticket;
  } catch {
    mark.textContent = t("live_off");
    setTimeout(goLive, backoff); backoff = Math.min(backoff * 2, 15000);
    return;
  }
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/api/v1/live?ticket=${encodeURIComponent(ticket)}`);
  socket = ws;
  ws.onopen = () => {
    backoff = 1000;
    mark.textContent = t("live_on");
    mark.dataset.state = "on";
    if (state.cursor > 0) ws.send(JSON.stringify({ type: "resume", after: state.cursor }));
    if (viewingCase) ws.send(JSON.stringify({ type: "viewing", case: viewingCase }));
  };
  ws.onclose = () => {
    mark.textContent = t("live_off");
    mark.dataset.state = "off";
    if (socket === ws) { socket = null; setTimeout(goLive, backoff); backoff = Math.min(backoff * 2, 15000); }
  };
  ws.onmessage = (e) => {
    const event = JSON.parse(e.data);
    if (typeof event.cursor === "number") {
      if (event.cursor <= state.cursor) return; // already seen (a replay overlapping the push)
      state.cursor = event.cursor;
      sessionStorage.setItem("vocdesk.cursor", String(state.cursor));
    }
    for (const fn of listeners) fn(event);
  };
  setInterval(() => sendLive("ping"), 25000);
}

// Drafts survive reloads and expired sessions: kept per user, case and kind until sent.
export const drafts = {
  key: (caseId, kind) => `vocdesk.draft.${state.me?.username}.${caseId}.${kind}`,
  get: (caseId, kind) => localStorage.getItem(drafts.key(caseId, kind)) || "",
  set: (caseId, kind, text) => text ? localStorage.setItem(drafts.key(caseId, kind), text) : localStorage.removeItem(drafts.key(caseId, kind)),
  clear: (caseId, kind) => localStorage.removeItem(drafts.key(caseId, kind)),
};

const bangkok = () => new Intl.DateTimeFormat(state.lang === "th" ? "th-TH" : "en-GB", {
  timeZone: "Asia/Bangkok", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
});
export function fmtTime(iso) { return iso ? bangkok().format(new Date(iso)) : "–"; }

function span(seconds) {
  const s = Math.abs(seconds);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  const th = state.lang === "th";
  if (d) return th ? `${d} วัน ${hh} ชม.` : `${d}d ${hh}h`;
  if (hh) return th ? `${hh} ชม. ${mm} น.` : `${hh}h ${mm}m`;
  return th ? `${mm} น.` : `${mm}m`;
}

// The SLA target that is next due: its countdown, amber when a warning step is reached, red when breached.
export function slaBadge(sla, status) {
  if (!sla || !sla.due || ["resolved", "closed"].includes(status)) return h("span.badge", { text: "–" });
  const open = Object.entries(sla.due).filter(([target]) => !(sla.met || {})[target]);
  if (!open.length) return h("span.badge.sla-ok", { text: "✓" });
  open.sort((a, b) => new Date(a[1]) - new Date(b[1]));
  const [target, due] = open[0];
  const left = (new Date(due) - Date.now()) / 1000;
  const st = (sla.state || {})[target];
  const cls = st === "breached" || left < 0 ? "sla-red" : st === "warning" ? "sla-amber" : "sla-ok";
  const text = left < 0 ? (state.lang === "th" ? `เกิน ${span(left)}` : `${span(left)} over`) : span(left);
  return h(`span.badge.${cls}`, { title: `${target}: ${fmtTime(due)}`, dataset: { sla: cls.slice(4) }, text: `⏱ ${text}` });
}

// An escalation step as people read it: "resolution@0.75:supervisor" is the action, the target and how far.
export function stepLabel(key) {
  const m = /^(\w+)@([\d.]+):(\w+)$/.exec(key || "");
  if (!m) return key || "–";
  return `${label(`step.${m[3]}`)} · ${label(`target.${m[1]}`)} ${+(Number(m[2]) * 100).toFixed(1)}%`;
}

const ICONS = { phone: "☎", email: "✉", line: "💬", app: "📱", walk_in: "🏢", fax: "📠" };
export function channelIcon(channel) {
  return h("span.chan", { title: label(channel), "aria-label": label(channel), text: ICONS[channel] || "•" });
}
