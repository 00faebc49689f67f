// The supervisor's view: load per unit and member, at-risk and breached cases with their escalation step,
// reassignment, and closures waiting for certification.
import { api, banner, fmtTime, h, label, onLive, slaBadge, state, stepLabel, t, toast } from "./core.js";

export async function supervisorPage(main) {
  const body = h("div.grid2");
  main.append(h("h1", { text: t("nav_supervisor") }), body);

  const picked = new Map();

  function caseTable(id, items, withStep) {
    const members = (unit) => state.units.find((u) => u.id === unit)?.members || [];
    return h(`table.plain#${id}`, {},
      h("thead", {}, h("tr", {}, [t("number"), t("sla"), t("unit"), t("assignee"), withStep ? t("escalation") : t("status"), t("reassign")].map((k) => h("th", { scope: "col", text: k })))),
      h("tbody", {}, items.map((c) => {
        const who = h("select", { "aria-label": `${t("reassign")} ${c.number}`, onchange: () => picked.set(c.id, who.value) },
          members(c.unit).map((m) => h("option", { value: m.user, text: m.user })));
        // A live refresh redraws the table; the member the supervisor picked stays picked.
        if (picked.has(c.id)) who.value = picked.get(c.id);
        return h("tr", { dataset: { caseId: c.id } },
          h("td", {}, h("a", { href: `/cases/${c.id}`, "data-nav": "", text: c.number })),
          h("td", {}, slaBadge(c.sla, c.status)),
          h("td", { text: c.unit || "–" }),
          h("td", { text: c.assignee || "–" }),
          h("td", { text: withStep ? stepLabel(c.escalation) : label(c.status) }),
          h("td", {}, h("form.row", { onsubmit: async (e) => {
            e.preventDefault();
            try { await api(`/cases/${c.id}/assign`, { method: "POST", body: { user: who.value, reason: "reassigned by supervisor" } }); picked.delete(c.id); toast(t("done")); await load(); } catch (err) { toast(`${t("failed")}: ${err.message}`); }
          } }, who, h("button", { type: "submit", text: t("reassign") }))));
      })));
  }

  async function load() {
    let data;
    try { data = await api("/supervisor/overview"); } catch (err) { banner(err.message); return; }
    banner("");
    const units = h("section.card#sup-units", {}, h("h2", { text: t("sup_units") }),
      h("table.plain", {},
        h("thead", {}, h("tr", {}, [t("unit"), t("open"), t("view_unassigned"), t("at_risk"), t("breached"), t("members")].map((k) => h("th", { scope: "col", text: k })))),
        h("tbody", {}, data.units.map((u) => h("tr", { dataset: { unit: u.unit } },
          h("td", { text: u.name || u.unit }), h("td", { text: u.open }), h("td", { text: u.unassigned }),
          h("td", { text: u.at_risk }), h("td", { text: u.breached }),
          h("td", {}, (u.members || []).map((m) => h("div", { text: `${m.user}: ${m.open}${m.online ? " · " + t("online") : ""}` }))))))));
    const pending = h("section.card#sup-closures", {}, h("h2", { text: t("pending_closures") }),
      h("ul", {}, data.pending_closures.map((c) => h("li", {}, h("a", { href: `/cases/${c.id}`, "data-nav": "", text: c.number }), ` ${fmtTime(c.updated_at)} `,
        h("button", { type: "button", text: t("certify"), onclick: async () => {
          try { await api(`/cases/${c.id}/certify-closure`, { method: "POST", body: {} }); toast(t("done")); await load(); } catch (err) { toast(`${t("failed")}: ${err.message}`); }
        } })))));
    body.replaceChildren(units,
      h("section.card", {}, h("h2", { text: t("breached") }), caseTable("sup-breached", data.breached, true)),
      h("section.card", {}, h("h2", { text: t("at_risk") }), caseTable("sup-at-risk", data.at_risk, true)),
      pending);
  }
  let pendingLoad = null;
  const stop = onLive((event) => { if (event.case || event.type === "reset") { clearTimeout(pendingLoad); pendingLoad = setTimeout(load, 400); } });
  main.cleanup = stop;
  await load();
}
