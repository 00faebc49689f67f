// One case as its own view: conversation, customer panel, composer, actions, collision indicator.
import { api, ApiError, banner, channelIcon, download, drafts, fmtTime, h, label, navigate, onLive, slaBadge, state, stepLabel, t, toast, viewing } from "./core.js";

const MENTION = /@([A-Za-z0-9._-]{2,64})/g;
const TEXT_OF = { "case.info_requested": "question", "case.resolved": "summary" };

export async function casePage(main, caseId) {
  let c = null;
  let identity = null;
  let canned = { items: [], values: {} };
  let sideShape = null;
  const head = h("div.case-head");
  const collision = h("div.collision#collision", { hidden: true, role: "status" });
  const conv = h("div.conversation#conversation", { "aria-live": "polite" });
  const side = h("aside.side");
  const result = h("div#d-result", { role: "status" });
  const composer = h("section.card.composer");
  main.append(
    h("a", { href: "/", "data-nav": "", text: t("back"), id: "back" }),
    head, collision,
    h("div.case-grid", {},
      h("div", {}, h("section.card", { "aria-labelledby": "conv-title" },
        h("h2#conv-title", { text: t("conversation") }), conv), composer, result),
      side));

  let loads = 0;
  let missing = false;
  async function load() {
    const mine = ++loads;
    try {
      const fetched = await api(`/cases/${encodeURIComponent(caseId)}`);
      // Answers can overtake each other: an older read never replaces a newer one.
      if (mine !== loads || (c && c.id === fetched.id && fetched.version < c.version)) return true;
      c = fetched;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        head.replaceChildren(h("h1", { text: err.message }));
        missing = true;
        return false;
      }
      banner(err.message);
      return false;
    }
    banner("");
    drawHead(); drawConversation();
    // The side panel is redrawn only when what it offers changes, so an open form stays open.
    const shape = JSON.stringify([c.status, c.assignee, c.unit, c.consent, !!c.pending_closure]);
    if (shape !== sideShape) { sideShape = shape; await drawSide(); }
    return true;
  }

  function drawHead() {
    const unitName = state.units.find((u) => u.id === c.unit)?.name || c.unit || "–";
    head.replaceChildren(
      h("h1#d-title", {}, `${c.number} — `, h("span#d-status", { text: label(c.status) })),
      slaBadge(c.sla, c.status),
      h(`span.badge.urg-${c.urgency}`, { text: label(c.urgency) }),
      h("span.badge", { text: `${t("unit")}: ${unitName}` }),
      h("span.badge#d-assignee", { text: `${t("assignee")}: ${c.assignee || "–"}` }),
      h("span.muted", { text: `${c.category || "–"} / ${c.topic || "–"}` }),
    );
  }

  function bubble(kind, at, who, text, extra) {
    const body = h("div.text");
    if (kind === "note") {
      // Mentions stand out; the text is never parsed as markup.
      let last = 0;
      for (const m of text.matchAll(MENTION)) {
        body.append(text.slice(last, m.index), h("span.mention", { text: m[0] }));
        last = m.index + m[0].length;
      }
      body.append(text.slice(last));
    } else {
      body.textContent = text;
    }
    return h(`div.msg.${kind}`, {}, h("div.meta", {}, fmtTime(at), " · ", who, extra || null), body);
  }

  function drawConversation() {
    const entries = [];
    for (const k of c.contacts || []) {
      const who = [channelIcon(k.channel), " ", label(k.channel)];
      const split = (c.contacts.length > 1 && canWork()) ? splitControl(k) : null;
      entries.push([k.received_at, 0, bubble("customer", k.received_at, who, k.text || "", split)]);
    }
    for (const e of c.timeline || []) {
      const d = e.detail || {};
      const who = `${e.actor || "system"}`;
      let node;
      if (e.type === "case.updated" && d.change === "replied") node = bubble("agent", e.at, `${t("reply")} · ${who}`, d.text || "");
      else if (e.type === "case.note_added") node = bubble("note", e.at, `${t("note")} · ${who}`, d.text || "");
      else if (TEXT_OF[e.type] && d[TEXT_OF[e.type]]) node = bubble("agent", e.at, `${label(e.type)} · ${who}`, d[TEXT_OF[e.type]]);
      else if (e.type === "case.contact_added") continue;
      else {
        const to = typeof d.to === "string" ? d.to : d.to?.user || d.to?.unit;
        const sla = d.step ? stepLabel(d.step) : e.type.startsWith("case.sla.") && d.target ? label(`target.${d.target}`) : null;
        const bits = [d.unit, to ? `→ ${to}` : null, sla, d.reason, d.change].filter(Boolean);
        node = h("div.msg.system", { dataset: { type: e.type } }, `${fmtTime(e.at)} · ${label(e.type)} · ${who}${bits.length ? " · " + bits.join(" · ") : ""}`);
      }
      entries.push([e.at, 1, node]);
    }
    entries.sort((a, b) => (new Date(a[0]) - new Date(b[0])) || (a[1] - b[1]));
    conv.replaceChildren(...entries.map((e) => e[2]));
  }

  function splitControl(contact) {
    const reason = h("input", { "aria-label": t("split_reason"), required: true, minlength: "3" });
    return h("details.action", {}, h("summary", { text: t("split") }),
      h("form.row", { onsubmit: (e) => { e.preventDefault(); act("split", { contact_id: contact.id, reason: reason.value }, (answer) => navigate(`/cases/${answer.id}`)); } },
        reason, h("button", { type: "submit", text: t("split") })));
  }

  const canWork = () => ["agent", "supervisor", "unit_member", "admin"].includes(state.me.role);

  async function act(action, body, then) {
    result.textContent = "";
    const form = side.contains(document.activeElement) ? document.activeElement.form : null;
    try {
      const answer = await api(`/cases/${c.id}/${action}`, { method: "POST", body: body || {} });
      form?.reset(); // the form that asked is done with; others keep what is typed in them
      result.textContent = t("done");
      if (then) then(answer); else await load();
      return true;
    } catch (err) {
      result.textContent = `${t("failed")}: ${err.message}`;
      return false;
    }
  }

  async function drawSide() {
    let panel;
    try { panel = await api(`/cases/${c.id}/customer`); } catch { panel = null; }
    const who = h("div#identity");
    if (identity) {
      who.append(h("p.muted", { text: t("revealed") }),
        h("dl", {}, Object.entries(identity).filter(([, v]) => v).map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])));
    }
    const reason = h("input#reveal-reason", { required: true, minlength: "5" });
    const reveal = h("details.action", {}, h("summary", { text: t("reveal") }),
      h("form", { onsubmit: async (e) => {
        e.preventDefault();
        try {
          const answer = await api(`/cases/${c.id}/reveal`, { method: "POST", body: { reason: reason.value } });
          identity = answer.identity;
          if (!identity) toast(t("not_revealed"));
          sideShape = null;
          await drawSide();
        } catch (err) { toast(`${t("failed")}: ${err.message}`); }
      } }, h("label", {}, t("reveal_reason"), reason), h("button", { type: "submit", text: t("reveal") })));
    const previous = panel?.previous_cases?.length
      ? h("ul", {}, panel.previous_cases.map((p) => h("li", {}, h("a", { href: `/cases/${p.id}`, "data-nav": "", text: p.number }), ` ${label(p.status)} · ${p.topic || "–"} · ${fmtTime(p.created_at)}`)))
      : h("p.muted", { text: t("no_previous") });
    let files = [];
    try { files = (await api(`/cases/${c.id}/attachments`)).items; } catch { files = []; }
    const fileList = files.length
      ? h("ul#attachments", {}, files.map((f) => h("li", {}, h("button", { type: "button", class: "ghost-link",
        text: `📎 ${f.name}`, onclick: () => download(`/cases/${c.id}/attachments/${f.id}`, f.name) }),
      ` ${Math.max(1, Math.round(f.size / 1024))} KB · ${f.by} · ${fmtTime(f.at)}`)))
      : h("p.muted#attachments", { text: t("no_attachments") });
    // Read what the agent has open and typed only now, after the fetches, so nothing is lost.
    const wasOpen = new Set([...side.querySelectorAll("details[open] > summary")].map((el) => el.textContent));
    const typed = new Map([...side.querySelectorAll("input[id], textarea[id]")].map((el) => [el.id, el.value]));
    side.replaceChildren(
      h("section.card#customer", { "aria-labelledby": "cust-title" },
        h("h2#cust-title", { text: t("customer") }),
        h("p", {}, `${t("consent")}: `, h("strong", { text: label(c.consent) })),
        h("p", {}, (c.channels || []).map(channelIcon)),
        who, identity ? null : reveal,
        h("h3", { text: t("previous_cases") }), previous),
      h("section.card#files", {}, h("h2", { text: t("attachments") }), fileList),
      actionsPanel());
    for (const el of side.querySelectorAll("details > summary")) if (wasOpen.has(el.textContent)) el.parentElement.open = true;
    for (const el of side.querySelectorAll("input[id], textarea[id]")) if (typed.get(el.id)) el.value = typed.get(el.id);
  }

  function field(kind, key, attrs = {}) {
    const el = h(kind, { required: true, ...attrs });
    return [el, h("label", {}, t(key), el)];
  }

  function actionsPanel() {
    const box = h("section.card.actions#actions", { "aria-labelledby": "act-title" }, h("h2#act-title", { text: t("actions") }));
    if (!canWork()) return box;
    const open = !["resolved", "closed"].includes(c.status);
    if (["new", "routed"].includes(c.status)) box.append(h("button.primary#d-ack", { type: "button", text: t("acknowledge"), onclick: () => act("acknowledge") }));
    if (open && c.assignee !== state.me.username) box.append(h("button#assign-me", { type: "button", text: t("assign_me"), onclick: () => act("assign", { user: state.me.username }) }));
    if (open && ["supervisor", "admin"].includes(state.me.role)) {
      const unit = state.units.find((u) => u.id === c.unit);
      const [who, whoLabel] = field("select", "assign_to", { id: "assign-user" });
      for (const m of unit?.members || []) who.append(h("option", { value: m.user, text: m.user }));
      box.append(h("details.action", {}, h("summary", { text: t("assign") }),
        h("form", { onsubmit: (e) => { e.preventDefault(); act("assign", { user: who.value }); } }, whoLabel, h("button", { type: "submit", text: t("assign") })),
        c.assignee ? h("button", { type: "button", text: t("unassign"), onclick: () => act("assign", { user: null }) }) : null));
    }
    if (open) {
      const [unitSel, unitLabel] = field("select", "unit", { id: "transfer-unit" });
      for (const u of state.units) if (u.id !== c.unit) unitSel.append(h("option", { value: u.id, text: u.name }));
      const [why, whyLabel] = field("input", "reason", { id: "transfer-reason" });
      box.append(h("details.action", {}, h("summary", { text: t("transfer") }),
        h("form", { onsubmit: (e) => { e.preventDefault(); act("transfer", { unit: unitSel.value, reason: why.value }); } }, unitLabel, whyLabel, h("button", { type: "submit", text: t("transfer") }))));
      const [question, qLabel] = field("textarea", "question", { id: "info-question" });
      box.append(h("details.action", {}, h("summary", { text: t("request_info") }),
        h("form", { onsubmit: (e) => { e.preventDefault(); act("request-info", { question: question.value }); } }, qLabel, h("button", { type: "submit", text: t("request_info") }))));
      const [summary, sLabel] = field("textarea", "summary", { id: "d-summary", "aria-label": "resolution summary" });
      box.append(h("details.action#resolve-box", {}, h("summary", { text: t("resolve") }),
        h("form", { onsubmit: (e) => { e.preventDefault(); act("resolve", { summary: summary.value }); } }, sLabel, h("button.primary#d-resolve", { type: "submit", text: t("resolve") }))));
      const [into, intoLabel] = field("input", "merge_into", { id: "merge-into", placeholder: "VOC-…" });
      const [mwhy, mwhyLabel] = field("input", "reason", { id: "merge-reason" });
      box.append(h("details.action", {}, h("summary", { text: t("merge") }),
        h("form", { onsubmit: async (e) => {
          e.preventDefault();
          let target;
          try { target = await api(`/cases/${encodeURIComponent(into.value.trim())}`); } catch (err) { result.textContent = `${t("failed")}: ${err.message}`; return; }
          act("merge", { into: target.id, reason: mwhy.value }, () => navigate(`/cases/${target.id}`));
        } }, intoLabel, mwhyLabel, h("button", { type: "submit", text: t("merge") }))));
    } else {
      const [why, whyLabel] = field("input", "reason", { id: "reopen-reason" });
      box.append(h("details.action", {}, h("summary", { text: t("reopen") }),
        h("form", { onsubmit: (e) => { e.preventDefault(); act("reopen", { reason: why.value }); } }, whyLabel, h("button", { type: "submit", text: t("reopen") }))));
    }
    if (c.pending_closure && ["supervisor", "admin"].includes(state.me.role)) {
      box.append(h("button#certify", { type: "button", text: t("certify"), onclick: () => act("certify-closure") }));
    }
    return box;
  }

  function drawComposer() {
    let mode = "reply";
    const text = h("textarea#composer-text", { "aria-label": "reply" });
    const textLabel = h("label", { for: "composer-text", text: t("reply_label") });
    const suggest = h("ul.suggest", { hidden: true });
    const cannedSel = h("select#canned", { "aria-label": t("canned") }, h("option", { value: "", text: `${t("canned")}…` }),
      canned.items.map((item) => h("option", { value: item.key, text: item.title })));
    const send = h("button.primary#send", { type: "submit", text: t("send_reply") });
    const tabReply = h("button", { type: "button", role: "tab", "aria-selected": "true", text: t("reply"), onclick: () => setMode("reply") });
    const tabNote = h("button#tab-note", { type: "button", role: "tab", "aria-selected": "false", text: t("note"), onclick: () => setMode("note") });
    function setMode(next) {
      drafts.set(c.id, mode, text.value);
      mode = next;
      tabReply.setAttribute("aria-selected", String(mode === "reply"));
      tabNote.setAttribute("aria-selected", String(mode === "note"));
      text.setAttribute("aria-label", mode === "reply" ? "reply" : "note");
      textLabel.textContent = t(mode === "reply" ? "reply_label" : "note_label");
      send.textContent = t(mode === "reply" ? "send_reply" : "add_note");
      cannedSel.hidden = mode !== "reply";
      text.value = drafts.get(c.id, mode);
      suggest.hidden = true;
    }
    function fill(template) {
      const unit = state.units.find((u) => u.id === c.unit)?.name || c.unit || "";
      const values = { ...canned.values, case_number: c.number, agent: state.me.username, unit, customer: identity?.name || t("customer_word") };
      return template.replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole);
    }
    cannedSel.addEventListener("change", () => {
      const item = canned.items.find((i) => i.key === cannedSel.value);
      if (item) { text.value = (text.value ? text.value + "\n" : "") + fill(item.text); drafts.set(c.id, mode, text.value); }
      cannedSel.value = "";
      text.focus();
    });
    text.addEventListener("input", () => {
      drafts.set(c.id, mode, text.value);
      const before = text.value.slice(0, text.selectionStart);
      const m = mode === "note" && before.match(/@([A-Za-z0-9._-]*)$/);
      if (!m) { suggest.hidden = true; return; }
      const found = state.people.filter((p) => p.username.startsWith(m[1]) && p.username !== state.me.username).slice(0, 6);
      suggest.replaceChildren(...found.map((p) => h("li", {}, h("button", { type: "button", text: `@${p.username} (${p.role}${p.unit ? ", " + p.unit : ""})`,
        onclick: () => {
          const start = text.selectionStart - m[1].length;
          text.value = text.value.slice(0, start) + p.username + " " + text.value.slice(text.selectionStart);
          drafts.set(c.id, mode, text.value); suggest.hidden = true; text.focus();
        } }))));
      suggest.hidden = !found.length;
    });
    const file = h("input#attach", { type: "file", accept: "application/pdf,image/png,image/jpeg,image/gif,image/webp,image/tiff" });
    file.addEventListener("change", async () => {
      if (!file.files.length) return;
      const data = new FormData();
      data.append("file", file.files[0]);
      result.textContent = "";
      try {
        await api(`/cases/${c.id}/attachments`, { method: "POST", upload: data });
        result.textContent = t("uploaded");
        sideShape = null;
        await load();
      } catch (err) { result.textContent = `${t("failed")}: ${err.message}`; }
      file.value = "";
    });
    const form = h("form", { onsubmit: async (e) => {
      e.preventDefault();
      const body = text.value.trim();
      if (!body) return;
      send.disabled = true;
      const known = new Set(state.people.map((p) => p.username));
      const mentions = [...new Set([...body.matchAll(MENTION)].map((m) => m[1]).filter((u) => known.has(u)))];
      const sentMode = mode;
      const ok = sentMode === "reply" ? await act("replies", { text: body }) : await act("notes", { text: body, mentions });
      send.disabled = false;
      if (ok) {
        drafts.clear(c.id, sentMode);
        // Only what was sent is cleared: the agent may have moved on to the other tab meanwhile.
        if (mode === sentMode && text.value.trim() === body) text.value = "";
      }
    } }, textLabel, text, suggest, h("div.row", {}, cannedSel, send),
    h("label", {}, t("attach"), file));
    composer.replaceChildren(h("div.tabs", { role: "tablist" }, tabReply, tabNote), form);
    text.value = drafts.get(c.id, mode);
    if (text.value) toast(t("draft_kept"));
    composer.hidden = !canWork();
  }

  const keys = (e) => {
    if (e.key === "Escape" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName) && !document.querySelector(".overlay:not([hidden])")) navigate("/");
  };
  document.addEventListener("keydown", keys);
  // Listening starts before the first read, so a change made while the page loads is not missed.
  let pending = null;
  const stop = onLive((event) => {
    if (event.type === "presence" && c && event.case === c.id) {
      const others = event.viewers.filter((v) => v !== state.me.username);
      collision.hidden = !others.length;
      collision.textContent = others.length ? t("viewing", { who: others.join(", ") }) : "";
    } else if ((event.case && [c?.id, caseId].includes(event.case.id)) || event.type === "reset") {
      clearTimeout(pending);
      const mine = event.actor === state.me.username;
      pending = setTimeout(async () => { await load(); if (!mine) toast(t("case_updated")); }, 200);
    }
  });
  main.cleanup = () => { stop(); viewing(null); document.removeEventListener("keydown", keys); };
  // A first load that failed comes back by itself; a case that does not exist stays an answer.
  while (!(await load())) {
    if (missing || !document.body.contains(conv)) return;
    await new Promise((done) => setTimeout(done, 5000));
  }
  try { canned = await api("/canned"); } catch { canned = { items: [], values: {} }; }
  drawComposer();
  viewing(c.id);
}
