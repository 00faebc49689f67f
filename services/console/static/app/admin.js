// Admin pages: users, canned responses, routing rules, SLA policies, calendars and (templates.js)
// the texts customers receive. Every change is validated by the API (its reason shown here) and
// audited there.
import { api, h, navigate, state, t, toast } from "./core.js";
import { drawTemplates } from "./templates.js";

const SECTIONS = ["users", "canned", "rules", "units", "calendars", "sla", "changes", "templates"];
const ROLES = ["agent", "supervisor", "unit_member", "manager", "dpo", "admin"];

export async function adminPage(main, section = "users") {
  if (!SECTIONS.includes(section)) { navigate("/admin/users"); return; }
  const tabs = h("nav.views", { "aria-label": t("nav_admin") }, SECTIONS.map((s) =>
    h("a", { href: `/admin/${s}`, "data-nav": "", "aria-current": s === section ? "page" : undefined, text: t(`admin_${s}`), class: "badge" })));
  const body = h("div#admin-body");
  main.append(h("h1", { text: `${t("nav_admin")} · ${t(`admin_${section}`)}` }), tabs, body);
  const message = h("p#admin-result", { role: "status" });
  const run = async (fn) => {
    message.textContent = "";
    try { await fn(); message.textContent = t("done"); await draw(); } catch (err) { message.textContent = `${t("failed")}: ${err.message}`; }
  };
  const draw = { users: drawUsers, canned: drawCanned, rules: drawRules, units: drawUnits, calendars: drawCalendars, sla: drawSla, changes: drawChanges,
    templates: () => drawTemplates(body) }[section];
  const R = "/admin/routing";

  async function drawUsers() {
    const { items } = await api("/admin/users");
    const name = h("input#new-username", { required: true });
    const pass = h("input#new-password", { type: "password", required: true, minlength: "12", autocomplete: "new-password" });
    const role = h("select#new-role", {}, ROLES.map((r) => h("option", { value: r, text: r })));
    const unit = h("select#new-unit", {}, h("option", { value: "", text: "–" }), state.units.map((u) => h("option", { value: u.id, text: u.name })));
    body.replaceChildren(
      h("form.card.row#user-form", { onsubmit: (e) => { e.preventDefault(); run(() => api("/admin/users", { method: "POST", body: { username: name.value, password: pass.value, role: role.value, unit: unit.value || null } })); } },
        h("label", {}, t("username"), name), h("label", {}, t("password"), pass), h("label", {}, t("role"), role), h("label", {}, t("unit"), unit),
        h("button.primary", { type: "submit", text: t("create") })),
      message,
      h("table.plain#users", {}, h("thead", {}, h("tr", {}, [t("username"), t("role"), t("unit"), t("active"), ""].map((k) => h("th", { scope: "col", text: k })))),
        h("tbody", {}, items.map((u) => {
          const roleSel = h("select", { "aria-label": `${t("change_role")} ${u.username}` }, ROLES.map((r) => h("option", { value: r, text: r })));
          roleSel.value = u.role;
          return h("tr", { dataset: { user: u.username } },
            h("td", { text: u.username }), h("td", {}, roleSel), h("td", { text: u.unit || "–" }), h("td", { text: u.active ? "✓" : "✗" }),
            h("td.row", {},
              h("button", { type: "button", text: t("change_role"), onclick: () => run(() => api(`/admin/users/${u.username}/role`, { method: "PUT", body: { role: roleSel.value, unit: u.unit } })) }),
              h("button", { type: "button", text: u.active ? t("disable") : t("enable"), onclick: () => run(() => api(`/admin/users/${u.username}/${u.active ? "disable" : "enable"}`, { method: "POST" })) }),
              h("button.danger", { type: "button", text: t("delete"), onclick: () => run(() => api(`/admin/users/${u.username}`, { method: "DELETE" })) })));
        }))));
  }

  async function drawCanned() {
    const { items, placeholders } = await api("/canned");
    const key = h("input#canned-key", { required: true, pattern: "[a-z0-9][a-z0-9_-]*" });
    const title = h("input#canned-title", { required: true });
    const text = h("textarea#canned-text", { required: true });
    const lang = h("select#canned-lang", {}, h("option", { value: "th", text: "ไทย" }), h("option", { value: "en", text: "English" }));
    const edit = (item) => { key.value = item.key; title.value = item.title; text.value = item.text; lang.value = item.lang || "th"; key.focus(); };
    body.replaceChildren(
      h("form.card#canned-form", { onsubmit: (e) => { e.preventDefault(); run(() => api(`/admin/canned/${encodeURIComponent(key.value)}`, { method: "PUT", body: { title: title.value, text: text.value, lang: lang.value } })); } },
        h("div.row", {}, h("label", {}, t("key"), key), h("label", {}, t("title"), title), h("label", {}, "Lang", lang)),
        h("label", {}, t("text"), text),
        h("p.muted", { text: `${t("placeholders")}: ${placeholders.map((p) => `{${p}}`).join(" ")}` }),
        h("button.primary", { type: "submit", text: t("save") })),
      message,
      h("table.plain#canned-list", {}, h("tbody", {}, items.map((item) => h("tr", { dataset: { key: item.key } },
        h("td", { text: item.key }), h("td", { text: item.title }), h("td", { text: item.text }),
        h("td.row", {}, h("button", { type: "button", text: t("edit"), onclick: () => edit(item) }),
          h("button.danger", { type: "button", text: t("delete"), onclick: () => run(() => api(`/admin/canned/${encodeURIComponent(item.key)}`, { method: "DELETE" })) })))))));
  }

  async function drawRules() {
    const rules = await api("/admin/rules");
    const text = h("textarea#rules-text", { rows: "16" });
    text.value = JSON.stringify({ rules: rules.rules || [] }, null, 2);
    body.replaceChildren(
      h("form.card#rules-form", { onsubmit: (e) => {
        e.preventDefault();
        let parsed;
        try { parsed = JSON.parse(text.value); } catch (err) { message.textContent = `${t("failed")}: ${err.message}`; return; }
        run(() => api("/admin/rules", { method: "PUT", body: parsed }));
      } }, h("label", {}, t("admin_rules"), text), h("div.row", {}, h("button.primary", { type: "submit", text: t("save") }),
        h("button", { type: "button", text: t("revert"), onclick: () => run(() => api("/admin/rules", { method: "DELETE" })) }))),
      message);
  }

  async function drawUnits() {
    const { units } = await api(`${R}/units`);
    body.replaceChildren(message, ...units.map((u) => {
      const members = h("textarea", { id: `members-${u.id}`, rows: "3", "aria-label": `${t("members")} ${u.name}` });
      members.value = u.members.map((m) => (m.capacity ? `${m.user}:${m.capacity}` : m.user)).join("\n");
      return h("form.card", { dataset: { unit: u.id }, onsubmit: (e) => {
        e.preventDefault();
        const list = members.value.split(/[\s,]+/).filter(Boolean).map((line) => {
          const [user, capacity] = line.split(":");
          return { user, capacity: capacity ? Number(capacity) : null };
        });
        run(() => api(`${R}/units/${u.id}/members`, { method: "PUT", body: { members: list } }));
      } },
      h("h2", { text: `${u.name} (${u.id})${u.overridden ? " ✎" : ""}` }),
      h("p.muted", { text: `${u.kind} · ${u.assignment} · ${t("open")} ≤ ${u.capacity} · ${u.supervisor || "–"}` }),
      h("label", { for: `members-${u.id}`, text: `${t("members")} (user หรือ user:capacity)` }), members,
      h("div.row", {}, h("button.primary", { type: "submit", text: t("save") }),
        u.overridden ? h("button", { type: "button", text: t("revert"), onclick: () => run(() => api(`${R}/units/${u.id}/members`, { method: "DELETE" })) }) : null));
    }));
  }

  async function drawCalendars() {
    const { calendars } = await api(`${R}/calendars`);
    body.replaceChildren(message, ...calendars.map((c) => {
      const day = h("input", { type: "date", required: true, id: `day-${c.id}`, "aria-label": `${t("holidays")} ${c.id}` });
      const name = h("input", { required: true, id: `name-${c.id}`, "aria-label": `${t("title")} ${c.id}` });
      return h("section.card", { dataset: { calendar: c.id } },
        h("h2", { text: `${c.id} · ${c.kind}` }),
        h("p.muted", { text: `${c.public_holidays ? "public holidays " + c.public_holidays + " · " : ""}${(c.holidays || []).length} file holidays` }),
        h("ul", {}, (c.adhoc || []).map((d) => h("li", {}, `${d.date} ${d.name} (${d.by}) `,
          h("button.danger", { type: "button", text: t("delete"), onclick: () => run(() => api(`${R}/calendars/${c.id}/holidays/${d.date}`, { method: "DELETE" })) })))),
        c.kind === "24x7" ? null : h("form.row", { onsubmit: (e) => { e.preventDefault(); run(() => api(`${R}/calendars/${c.id}/holidays/${day.value}`, { method: "PUT", body: { name: name.value } })); } },
          day, name, h("button.primary", { type: "submit", text: t("save") })));
    }));
  }

  async function drawSla() {
    const data = await api(`${R}/sla-policies`);
    const overridden = new Set(data.overridden || []);
    body.replaceChildren(message, ...data.policies.map((policy) => {
      const text = h("textarea", { id: `policy-${policy.id}`, rows: "10", "aria-label": `${t("policies")} ${policy.id}` });
      text.value = JSON.stringify(policy, null, 2);
      return h("form.card", { dataset: { policy: policy.id }, onsubmit: (e) => {
        e.preventDefault();
        let parsed;
        try { parsed = JSON.parse(text.value); } catch (err) { message.textContent = `${t("failed")}: ${err.message}`; return; }
        run(() => api(`${R}/sla-policies/${encodeURIComponent(policy.id)}`, { method: "PUT", body: parsed }));
      } }, h("h2", { text: `${policy.id}${overridden.has(policy.id) ? " ✎" : ""}` }), text,
      h("div.row", {}, h("button.primary", { type: "submit", text: t("save") }),
        overridden.has(policy.id) ? h("button", { type: "button", text: t("revert"), onclick: () => run(() => api(`${R}/sla-policies/${encodeURIComponent(policy.id)}`, { method: "DELETE" })) }) : null));
    }));
  }

  async function drawChanges() {
    const { items } = await api(`${R}/changes?limit=200`);
    body.replaceChildren(h("table.plain#changes", {},
      h("thead", {}, h("tr", {}, ["at", "by", "kind", "target", "action"].map((k) => h("th", { scope: "col", text: k })))),
      h("tbody", {}, items.map((c) => h("tr", {}, h("td", { text: c.at }), h("td", { text: c.by }), h("td", { text: c.kind }), h("td", { text: c.target }), h("td", { text: c.action }))))));
  }

  try { await draw(); } catch (err) { body.replaceChildren(h("p.error", { role: "alert", text: err.message })); }
  void toast;
}
