// Entry point: log in, then the view the URL names; language switch, logout, provider banner.
import { adminPage } from "./admin.js";
import { casePage } from "./case.js";
import { api, goLive, h, loginForm, logOut, onLive, render, route, state, t, toast, navigate } from "./core.js";
import { help, queuePage } from "./queue.js";
import { supervisorPage } from "./supervisor.js";

route(/^\/$/, queuePage);
route(/^\/cases\/([^/]+)$/, casePage);
route(/^\/supervisor$/, supervisorPage);
route(/^\/admin\/?$/, (main) => adminPage(main, "users"));
route(/^\/admin\/([a-z]+)$/, adminPage);

function chrome() {
  document.documentElement.lang = state.lang;
  const langButton = document.getElementById("lang");
  langButton.textContent = t("lang");
  const logout = document.getElementById("logout");
  logout.textContent = t("logout");
  logout.hidden = !state.me;
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  if (!state.me) return;
  const role = state.me.role;
  const links = [["/", "nav_queue"]];
  if (["supervisor", "admin"].includes(role)) links.push(["/supervisor", "nav_supervisor"]);
  if (role === "admin") links.push(["/admin/users", "nav_admin"]);
  if (["manager", "supervisor", "admin"].includes(role)) links.push(["/reports", "nav_reports"]);
  for (const [href, key] of links) {
    const current = href === "/" ? location.pathname === "/" || location.pathname.startsWith("/cases/") : location.pathname.startsWith(href);
    nav.append(h("a", { href, "data-nav": href === "/reports" ? undefined : "", "aria-current": current ? "page" : undefined, text: t(key) }));
  }
  document.getElementById("who").textContent = `${state.me.username} (${role}${state.me.unit ? ", " + state.me.unit : ""})`;
}

async function providers() {
  if (!state.token || !state.me) return;
  try {
    const { down, known } = await api("/providers/status");
    if (known === false) return; // notify did not answer: the banner stays as it was
    const el = document.getElementById("provider-banner");
    el.hidden = down.length === 0;
    el.textContent = down.length === 0 ? "" :
      "การแจ้งลูกค้าขัดข้อง ระบบจะส่งให้เมื่อกลับมาใช้งานได้ / Customer notifications held, provider unavailable: " + down.map((p) => p.provider).join(", ");
  } catch { /* the banner waits for the next poll */ }
}

async function start() {
  try {
    state.me = await api("/me");
  } catch {
    showLogin();
    return;
  }
  const [units, people] = await Promise.allSettled([api("/units"), api("/people")]);
  state.units = units.status === "fulfilled" ? units.value : [];
  state.people = people.status === "fulfilled" ? people.value.items : [];
  chrome();
  goLive();
  providers();
  setInterval(providers, 5000);
  onLive((event) => {
    if (event.type === "mention") {
      toast(t("mentioned", { by: event.by, n: event.case.number }),
        h("button", { type: "button", text: t("open_case"), onclick: () => navigate(`/cases/${event.case.id}`) }));
    }
  });
  window.addEventListener("popstate", chrome);
  const original = history.pushState.bind(history);
  history.pushState = (...args) => { original(...args); chrome(); };
  await render();
}

function showLogin() {
  state.me = null;
  chrome();
  const main = document.getElementById("main");
  main.replaceChildren(loginForm(() => start()));
  main.querySelector("input").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("lang").addEventListener("click", () => {
    state.lang = state.lang === "th" ? "en" : "th";
    localStorage.setItem("vocdesk.lang", state.lang);
    chrome();
    if (state.me) render(); else showLogin();
  });
  document.getElementById("logout").addEventListener("click", logOut);
  document.addEventListener("keydown", (e) => {
    if (e.key === "?" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName) && !location.pathname.startsWith("/cases/") && location.pathname !== "/") help();
  });
  chrome();
  if (state.token) start(); else showLogin();
});
