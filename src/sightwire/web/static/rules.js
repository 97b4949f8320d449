"use strict";
// Rules: each rule's precision from reviewed events, beside the configured rules.
document.addEventListener("DOMContentLoaded", async () => {
  const body = document.querySelector("#rules tbody");
  try {
    const [rules, precision] = await Promise.all([
      SW.json("/api/v1/rules").catch(() => []), SW.json("/api/v1/review/precision"),
    ]);
    const byRule = new Map(precision.map((p) => [p.rule, p]));
    const names = [...new Set([...rules.map((r) => r.name), ...byRule.keys()])].sort();
    body.replaceChildren(...names.map((name) => {
      const p = byRule.get(name) || { confirmed: 0, rejected: 0, precision: null };
      const reviewed = p.confirmed + p.rejected;
      const shown = p.precision === null ? "—" : Math.round(p.precision * 100) + "%";
      const low = p.precision !== null && p.precision < 0.8;
      return SW.el("tr", { "data-rule": name },
        SW.el("td", {}, SW.el("a", { href: "/ui/events?rule=" + encodeURIComponent(name), text: name })),
        SW.el("td", { text: reviewed }), SW.el("td", { text: p.confirmed }), SW.el("td", { text: p.rejected }),
        SW.el("td", { class: "precision" + (low ? " low" : ""), text: shown }));
    }));
  } catch (error) {
    SW.toast(error.message, "error");
  }
});
