"use strict";
// Models: versions, aliases, history; promote a version, roll an alias back.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("models");

  function card(model) {
    const admin = SW.can("admin");
    const aliasInput = SW.el("input", { value: "production", size: 12, "aria-label": `Alias of ${model.name}` });
    const versions = SW.el("table", { class: "list" },
      SW.el("thead", {}, SW.el("tr", {}, ...["Version", "Aliases", "Task", "Added", ""].map((h) => SW.el("th", { scope: "col", text: h })))),
      SW.el("tbody", {}, ...model.versions.map((v) => SW.el("tr", { "data-version": v.version },
        SW.el("td", { text: v.version }), SW.el("td", { class: "aliases", text: v.aliases.join(", ") || "—" }),
        SW.el("td", { text: v.task }), SW.el("td", { text: `${SW.when(v.created_at)} · ${v.created_by}` }),
        SW.el("td", {}, SW.el("button", { type: "button", disabled: !admin, text: "Promote",
          "aria-label": `Promote ${model.name} ${v.version}`,
          onclick: () => act(model.name, "promote", { version: v.version, alias: aliasInput.value }) }))))));
    const history = SW.el("ol", { class: "history" }, ...model.history.slice(-10).reverse().map((c) =>
      SW.el("li", { text: `${SW.when(c.at)} · ${c.action} ${c.alias || ""} ${c.from_version || "—"} → ${c.to_version || "—"} · ${c.actor}` })));
    const aliases = Object.entries(model.aliases).map(([a, v]) => `${a} → ${v}`).join(", ") || "none";
    return SW.el("section", { class: "card", "data-model": model.name },
      SW.el("h2", { text: model.name }),
      SW.el("p", { class: "current-aliases", text: "Aliases: " + aliases }),
      SW.el("div", { class: "actions" },
        SW.el("label", {}, "Alias ", aliasInput),
        SW.el("button", { type: "button", disabled: !admin, text: "Roll back",
          onclick: () => act(model.name, "rollback", { alias: aliasInput.value }) })),
      versions, SW.el("h3", { text: "History" }), history);
  }

  async function act(name, action, body) {
    try {
      const change = await SW.send("POST", `/api/v1/models/${encodeURIComponent(name)}/${action}`, body);
      SW.toast(`${name}: ${change.alias} ${change.from_version || "—"} → ${change.to_version}`);
      await load();
    } catch (error) {
      SW.toast(error.message, "error");
    }
  }

  async function load() {
    const models = await SW.json("/api/v1/models");
    root.replaceChildren(...(models.length ? models.map(card) : [SW.el("p", { text: "No models in the registry." })]));
  }

  SW.whoAmI().catch(() => null).then(load).catch((error) => SW.toast(error.message, "error"));
});
