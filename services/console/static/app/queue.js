// The queue: views with counts, filters, search, sorting, pages, SLA badges, unread markers, j/k/Enter.
import { api, banner, channelIcon, fmtTime, h, label, navigate, onLive, slaBadge, state, t } from "./core.js";

const VIEWS = ["mine", "unassigned", "unit", "at_risk", "breached", "all"];
const STATUSES = ["new", "routed", "acknowledged", "in_progress", "pending_customer", "resolved", "closed"];
const CHANNELS = ["phone", "email", "line", "app", "walk_in", "fax"];
const URGENCIES = ["urgent", "high", "normal", "low"];
const SORTS = [["-created_at", "sort_new"], ["created_at", "sort_old"], ["due", "sort_due"],
  ["-urgency", "sort_urgency"], ["-updated_at", "sort_updated"], ["number", "sort_number"]];
const PER_PAGE = 25;

function saved() {
  try { return JSON.parse(sessionStorage.getItem("vocdesk.queue") || "{}"); } catch { return {}; }
}

export async function queuePage(main) {
  const q = { view: "all", page: 1, sort: "-created_at", searchBy: "text", ...saved() };
  const store = () => sessionStorage.setItem("vocdesk.queue", JSON.stringify(q));
  let items = [];
  let selected = 0;
  let total = 0;
  let exact = true;
  let following = null; // where the next page starts (the list's cursor)
  // Pages after the first are read from the cursor the page before gave, for this query only.
  const queryKey = () => JSON.stringify([q.view, q.sort, q.status, q.channel, q.urgency, q.unit,
    q.assignee, q.topic, q.searchBy, q.text]);
  const cursorFor = (page) => (q.cursors && q.cursors.key === queryKey() ? q.cursors.pages[page] : undefined);

  const counts = {};
  const viewButtons = VIEWS.map((view) => {
    const count = h("span.count", { text: "" });
    counts[view] = count;
    return h("button", {
      type: "button", "aria-pressed": String(q.view === view), dataset: { view },
      onclick: () => { q.view = view; q.page = 1; store(); syncViews(); load(); },
    }, t(`view_${view}`), count);
  });
  const syncViews = () => viewButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === q.view)));

  const select = (name, options, labeller = label) => {
    const el = h("select", { id: `f-${name}`, onchange: () => { q[name] = el.value || undefined; q.page = 1; store(); load(); } },
      h("option", { value: "", text: t("any") }),
      options.map((o) => h("option", { value: o, text: labeller(o) })));
    el.value = q[name] || "";
    return h("label", {}, t(name), el);
  };
  const search = h("input#f-q", { type: "search", value: q.text || "", placeholder: "VOC-…, 08…", "aria-describedby": "search-hint" });
  const searchBy = h("select#f-by", {}, h("option", { value: "text", text: t("by_text") }), h("option", { value: "customer", text: t("by_customer") }));
  searchBy.value = q.searchBy;
  const sort = h("select#f-sort", { onchange: () => { q.sort = sort.value; q.page = 1; store(); load(); } },
    SORTS.map(([value, key]) => h("option", { value, text: t(key) })));
  sort.value = q.sort;
  const unitNames = Object.fromEntries(state.units.map((u) => [u.id, u.name]));
  const assignee = h("input#f-assignee", { value: q.assignee || "", size: 10 });
  const topic = h("input#f-topic", { value: q.topic || "", size: 10 });
  const form = h("form.filters", {
    role: "search",
    onsubmit: (e) => {
      e.preventDefault();
      q.text = search.value.trim() || undefined; q.searchBy = searchBy.value;
      q.assignee = assignee.value.trim() || undefined; q.topic = topic.value.trim() || undefined;
      q.page = 1; store(); load();
    },
  },
  h("label", {}, t("search"), search),
  h("label", {}, t("search_by"), searchBy),
  select("status", STATUSES),
  select("channel", CHANNELS),
  select("urgency", URGENCIES),
  state.me.role === "unit_member" ? null : select("unit", state.units.map((u) => u.id), (id) => unitNames[id] || id),
  h("label", {}, t("topic"), topic),
  h("label", {}, t("assignee"), assignee),
  h("label", {}, t("sort"), sort),
  h("button.primary", { type: "submit", text: t("search") }));

  const rows = h("tbody#rows");
  const pageInfo = h("span#page-info");
  const prev = h("button#prev", { type: "button", text: t("prev"), onclick: () => { q.page -= 1; store(); load(); } });
  const next = h("button#next", { type: "button", text: t("next"), onclick: () => {
    if (following) q.cursors.pages[q.page + 1] = following;
    q.page += 1; store(); load();
  } });
  const empty = h("p.muted#empty", { hidden: true, text: t("none_found") });
  const table = h("table.queue#cases", {},
    h("thead", {}, h("tr", {}, ["", "number", "sla", "status", "channel", "topic", "unit", "urgency", "assignee", "last_contact", "updated"]
      .map((k) => h("th", { scope: "col", text: k ? t(k) : "" })))),
    rows);
  main.append(
    h("h1.sr", { class: "muted", text: t("nav_queue") }),
    h("div.views", { role: "group", "aria-label": t("nav_queue") }, viewButtons),
    form,
    table,
    empty,
    h("div.pager", {}, prev, pageInfo, next),
    h("p.muted#search-hint", { text: "j/k · Enter · / · ?" }),
  );

  function params() {
    const p = new URLSearchParams({ view: q.view, page: String(q.page), per_page: String(PER_PAGE), sort: q.sort });
    for (const k of ["status", "channel", "urgency", "unit", "assignee", "topic"]) if (q[k]) p.set(k, q[k]);
    if (q.text) p.set(q.searchBy === "customer" ? "customer" : "q", q.text);
    const after = q.page > 1 ? cursorFor(q.page) : undefined;
    if (after) p.set("after", after);
    return p;
  }

  function row(c, i) {
    const last = c.contacts?.[c.contacts.length - 1];
    const link = h("a.num", { href: `/cases/${c.id}`, "data-nav": "", text: c.number, tabindex: "-1" });
    const tr = h("tr", {
      dataset: { caseId: c.id },
      class: [c.unread ? "unread" : "", i === selected ? "selected" : ""].join(" ").trim() || undefined,
      onclick: () => navigate(`/cases/${c.id}`),
    },
    h("td", {}, c.unread ? h("span.dot", { title: t("unread"), "aria-label": t("unread") }) : ""),
    h("td", {}, link),
    h("td", {}, slaBadge(c.sla, c.status)),
    h("td", {}, h("span.badge", { text: label(c.status) })),
    h("td", {}, (c.channels || [c.channel]).map(channelIcon)),
    h("td", { text: c.topic || "–" }),
    h("td.hide-sm", { text: unitNames[c.unit] || c.unit || "–" }),
    h("td", {}, h(`span.badge.urg-${c.urgency}`, { text: label(c.urgency) })),
    h("td.hide-sm", { text: c.assignee || "–" }),
    h("td", {}, h("div.excerpt", { text: last ? last.text : "" })),
    h("td.hide-sm", { text: fmtTime(c.updated_at) }));
    return tr;
  }

  function draw() {
    rows.replaceChildren(...items.map(row));
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    pageInfo.textContent = exact ? t("page_of", { p: q.page, n: pages, t: total })
      : t("page_about", { p: q.page, t: total });
    prev.disabled = q.page <= 1;
    next.disabled = !following && q.page >= pages;
    empty.hidden = items.length > 0;
  }

  let retry = null;
  async function load() {
    clearTimeout(retry);
    try {
      const [page, numbers] = await Promise.all([api("/cases?" + params()), api("/cases/counts")]);
      items = page.items; total = page.total;
      exact = page.total_exact !== false; following = page.next || null;
      // A page read from a cursor counts only what follows it: keep the exact total page 1 gave.
      if (q.cursors?.key !== queryKey()) q.cursors = { key: queryKey(), pages: {} };
      if (exact) q.cursors.total = total;
      else if (q.cursors.total !== undefined) { total = q.cursors.total; exact = true; }
      if (q.page > 1 && !items.length && total) { q.page = Math.ceil(total / PER_PAGE); store(); return load(); }
      selected = Math.min(selected, Math.max(0, items.length - 1));
      for (const view of VIEWS) counts[view].textContent = String(numbers[view] ?? "");
      banner("");
      draw();
    } catch (err) {
      banner(`${t("offline_load")} (${err.message})`);
      retry = setTimeout(load, 5000); // a failed first load still comes back by itself
    }
  }

  let pending = null;
  const stop = onLive((event) => {
    if (!event.case && event.type !== "reset") return;
    clearTimeout(pending);
    pending = setTimeout(load, 250); // a burst of events is one reload
  });
  const ticker = setInterval(draw, 30000); // countdowns move on their own

  function keys(e) {
    if (!document.body.contains(table)) { cleanup(); return; }
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
    if (e.key === "/" && !typing) { e.preventDefault(); search.focus(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j" || e.key === "k") {
      selected = Math.max(0, Math.min(items.length - 1, selected + (e.key === "j" ? 1 : -1)));
      draw();
      rows.children[selected]?.scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter" && items[selected]) {
      navigate(`/cases/${items[selected].id}`);
    } else if (e.key === "?") {
      help();
    }
  }
  function cleanup() { stop(); clearInterval(ticker); clearTimeout(retry); document.removeEventListener("keydown", keys); }
  document.addEventListener("keydown", keys);
  main.cleanup = cleanup;
  await load();
}

export function help() {
  if (document.getElementById("help")) return;
  const close = h("button", { type: "button", text: t("close"), onclick: () => box.remove() });
  const box = h("div.overlay#help", { role: "dialog", "aria-modal": "true", "aria-labelledby": "help-title",
    onkeydown: (e) => { if (e.key === "Escape") box.remove(); } },
  h("div.card.help", {},
    h("h2#help-title", { text: t("help_title") }),
    h("dl", {},
      h("dt", { text: "j / k" }), h("dd", { text: t("help_jk") }),
      h("dt", { text: "Enter" }), h("dd", { text: t("help_enter") }),
      h("dt", { text: "/" }), h("dd", { text: t("help_slash") }),
      h("dt", { text: "?" }), h("dd", { text: t("help_q") }),
      h("dt", { text: "Esc" }), h("dd", { text: t("help_esc") })),
    close));
  document.body.append(box);
  close.focus();
}
