// Admin page: the texts customers receive (notify's templates). Slots by event × language × part;
// the editor shows the shipped default beside the text, previews a draft with a sample case, saves,
// resets to the default and lists who changed what. Notify checks every save (its reason is shown).
import { api, fmtTime, h, t } from "./core.js";

const BASE = "/admin/templates";
const state = { lang: "th", slot: null };

export async function drawTemplates(body) {
  const data = await api(BASE);
  const slots = new Map(data.slots.map((s) => [s.name, s]));
  if (state.slot && !slots.has(state.slot)) state.slot = null;

  const language = h("select#tpl-lang", { onchange: () => { state.lang = language.value; draw(); } },
    data.languages.map((l) => h("option", { value: l, text: l === "th" ? "ไทย" : "English" })));
  language.value = state.lang;
  const grid = h("div#tpl-grid");
  const editor = h("section.card#tpl-editor", { "aria-labelledby": "tpl-slot-name" });
  const history = h("section.card#tpl-history", {}, h("h2", { text: t("tpl_history") }));
  body.replaceChildren(
    h("section.card.tpl-slots", {},
      h("div.row", {}, h("label", {}, t("tpl_language"), language)),
      grid),
    editor, history);

  function mark(slot) {
    if (slot.override !== null) return ["edited", t("tpl_state_override")];
    if (slot.default === null) return ["fallback", t("tpl_state_fallback", { slot: slot.fallback })];
    return ["default", t("tpl_state_default")];
  }

  function cell(name) {
    const slot = slots.get(name);
    const [kind, words] = mark(slot);
    return h("td", {}, h("button.slot", {
      type: "button", dataset: { slot: name, state: kind }, "aria-pressed": String(name === state.slot),
      "aria-label": `${name}: ${words}`, title: words,
      text: kind === "edited" ? `✎ ${t("tpl_state_override")}` : kind === "default" ? t("tpl_state_default") : "↳",
      onclick: () => { state.slot = name; draw(); document.getElementById("tpl-source")?.focus(); },
    }));
  }

  function drawGrid() {
    const lang = state.lang;
    grid.replaceChildren(h("table.plain.tpl-grid", {},
      h("caption", { text: t("tpl_grid_caption") }),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("tpl_kind") }),
        data.parts.map((p) => h("th", { scope: "col", text: t(`tpl_part_${p}`) })))),
      h("tbody", {},
        data.kinds.map((k) => h("tr", {}, h("th", { scope: "row", text: t(`tpl_kind_${k}`) }),
          data.parts.map((p) => cell(`${lang}/${k}.${p}`)))),
        h("tr", {}, h("th", { scope: "row", text: t("tpl_common") }),
          h("td", { colspan: "2" }, t("tpl_part_frame"), " ", cell(`${lang}/_body`).firstChild),
          h("td", { colspan: String(data.parts.length - 2) }, t("tpl_part_layout"), " ", cell("_layout.html").firstChild)))));
  }

  function drawEditor() {
    if (!state.slot) {
      editor.replaceChildren(h("h2#tpl-slot-name", { text: t("admin_templates") }), h("p.muted", { text: t("tpl_pick") }));
      return;
    }
    const slot = slots.get(state.slot);
    const source = h("textarea#tpl-source", { rows: "8", spellcheck: "false", "aria-describedby": "tpl-vars tpl-count" });
    source.value = slot.override ?? slot.default ?? "";
    const count = h("p#tpl-count.muted");
    const counted = () => { count.textContent = t("tpl_chars", { n: source.value.length, max: data.max_chars }); };
    source.addEventListener("input", counted);
    counted();
    const error = h("div#tpl-error.error", { role: "alert" });
    const result = h("p#tpl-result", { role: "status" });
    const shown = h("section#tpl-shown", { "aria-live": "polite" });
    const act = async (fn) => {
      error.textContent = ""; result.textContent = "";
      try { await fn(); } catch (err) { error.textContent = `${t("failed")}: ${err.message}`; }
    };
    const preview = () => act(async () => {
      const answer = await api(`${BASE}/preview`, { method: "POST", body: { slot: slot.name, source: source.value } });
      shown.replaceChildren(h("h3", { text: t("tpl_preview_title", { n: answer.sample.case_number }) }),
        ...answer.renders.map((r) => h("div.tpl-render", { dataset: { channel: r.channel, lang: r.language } },
          h("h4", { text: `${t(`tpl_ch_${r.channel}`)} · ${r.language} · ${t(`tpl_kind_${r.kind}`)}` }),
          r.subject ? h("p", {}, h("strong", { text: r.subject })) : null,
          h("pre.code", { text: slot.name === "_layout.html" || slot.part === "html" ? r.html : r.text }))));
    });
    const save = () => act(async () => {
      slots.set(slot.name, await api(`${BASE}/${slot.name}`, { method: "PUT", body: { source: source.value } }));
      await redraw(t("tpl_saved"));
    });
    const reset = () => act(async () => {
      slots.set(slot.name, await api(`${BASE}/${slot.name}`, { method: "DELETE" }));
      await redraw(t("tpl_reset_ok"));
    });
    const redraw = async (said) => {
      drawGrid(); drawEditor(); await drawHistory();
      document.getElementById("tpl-result").textContent = said;
    };
    const [, words] = mark(slot);
    editor.replaceChildren(...[
      h("h2#tpl-slot-name", {}, h("code", { text: slot.name }), " ", h("span.badge", { text: words })),
      slot.default !== null
        ? h("label", {}, t("tpl_default"), h("textarea#tpl-default", { rows: "5", readonly: true, value: slot.default }))
        : h("p.muted#tpl-default", { text: t("tpl_no_default", { slot: slot.fallback }) }),
      h("label", {}, t("tpl_source"), source),
      h("p.muted#tpl-vars", { text: `${t("tpl_vars")}: ${Object.keys(data.sample).map((v) => `{{ ${v} }}`).join(" ")}` }),
      count,
      slot.updated_by ? h("p.muted", { text: `${t("tpl_state_override")} ${t("by")} ${slot.updated_by} · ${fmtTime(slot.updated_at)}` }) : null,
      h("div.row", {},
        h("button#tpl-preview", { type: "button", text: t("tpl_preview"), onclick: preview }),
        h("button.primary#tpl-save", { type: "button", text: t("save"), onclick: save }),
        h("button.danger#tpl-reset", { type: "button", text: t("tpl_reset"), disabled: slot.override === null, onclick: reset })),
      error, result, shown,
    ].filter(Boolean));
  }

  async function drawHistory() {
    const { items } = await api(`${BASE}/changes?limit=50`);
    const text = (value) => h("pre.code", { text: value ?? t("tpl_none") });
    history.replaceChildren(h("h2", { text: t("tpl_history") }), items.length === 0 ? h("p.muted", { text: t("tpl_no_changes") }) :
      h("table.plain#tpl-changes", {},
        h("thead", {}, h("tr", {}, [t("tpl_at"), t("by"), t("tpl_slot"), t("tpl_action"), ""].map((k) => h("th", { scope: "col", text: k })))),
        h("tbody", {}, items.map((c) => h("tr", { dataset: { slot: c.slot, action: c.action } },
          h("td", { text: fmtTime(c.at) }), h("td", { text: c.by }), h("td", {}, h("code", { text: c.slot })),
          h("td", { text: c.action === "reset" ? t("tpl_reset_done") : t("tpl_set") }),
          h("td", {}, h("details", {}, h("summary", { text: t("tpl_before_after") }),
            h("p.muted", { text: t("tpl_before") }), text(c.before), h("p.muted", { text: t("tpl_after") }), text(c.after))))))));
  }

  function draw() { drawGrid(); drawEditor(); }
  draw();
  await drawHistory();
}
