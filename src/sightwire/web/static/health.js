"use strict";
// Health: sources, pipeline figures, delivery backlog; refreshed every few seconds.
document.addEventListener("DOMContentLoaded", () => {
  async function refresh() {
    try {
      const status = await SW.json("/api/v1/status");
      document.querySelector("#sources tbody").replaceChildren(...status.sources.map((s) => SW.el("tr", { "data-camera": s.camera },
        SW.el("td", { text: s.camera }), SW.el("td", {}, SW.el("span", { class: "pill " + s.state, text: s.state })),
        SW.el("td", { text: s.fps }), SW.el("td", { text: s.frames }), SW.el("td", { text: s.processed }), SW.el("td", { text: s.events }),
        SW.el("td", { text: `${s.dropped} dropped · ${s.reconnects} reconnects${s.detail ? " · " + s.detail : ""}` }))));
      const ms = (v) => (v === null ? "—" : `${v} ms`);
      const pipeline = document.getElementById("pipeline");
      pipeline.replaceChildren();
      for (const [k, v] of [["Pipelines", status.pipelines ? "running" : "off"],
        ["Latency p50 (capture → event)", ms(status.latency.p50_ms)], ["Latency p95", ms(status.latency.p95_ms)],
        ["Review queue", `${status.review_pending} pending`]]) {
        pipeline.append(SW.el("dt", { text: k }), SW.el("dd", { text: v }));
      }
      const backlog = Object.entries(status.backlog);
      document.querySelector("#backlog tbody").replaceChildren(...(backlog.length
        ? backlog.map(([d, n]) => SW.el("tr", {}, SW.el("td", { text: d }), SW.el("td", { text: n })))
        : [SW.el("tr", {}, SW.el("td", { colspan: 2, text: "Nothing waiting." }))]));
    } catch (error) {
      SW.toast(error.message, "error");
    }
    setTimeout(refresh, 3000);
  }
  refresh();
});
