"use strict";
// Live: a tile per camera, its latest frame (boxes, zones, track ids drawn by the
// server) refreshed by polling, and its source state.
document.addEventListener("DOMContentLoaded", async () => {
  const root = document.getElementById("tiles");
  const REFRESH_MS = 1000;
  const tiles = new Map();

  function tile(camera) {
    const img = SW.el("img", { alt: `Latest frame of ${camera.name}` });
    const state = SW.el("span", { class: "pill" });
    const counts = SW.el("span", { class: "counts" });
    const node = SW.el("article", { class: "tile card", "data-camera": camera.name },
      SW.el("h2", {}, camera.name, " ", state), SW.el("div", { class: "frame" }, img),
      SW.el("p", {}, counts, " ", SW.el("a", { href: "/ui/zones?camera=" + encodeURIComponent(camera.name), text: "Zones" })));
    root.append(node);
    return { img, state, counts, busy: false };
  }

  function update(camera) {
    const t = tiles.get(camera.name) || tiles.set(camera.name, tile(camera)).get(camera.name);
    t.state.textContent = camera.state || "not running";
    t.state.className = "pill " + (camera.state || "off");
    t.counts.textContent = `${camera.fps} fps · ${camera.processed} frames · ${camera.events} events`;
    if (!t.busy && camera.frames_shown > 0) {
      t.busy = true;
      SW.loadImage(t.img, `/api/v1/cameras/${encodeURIComponent(camera.name)}/frame?overlays=true`)
        .catch(() => {}).finally(() => { t.busy = false; });
    }
  }

  async function refresh() {
    try {
      (await SW.json("/api/v1/cameras")).forEach(update);
    } catch (error) {
      SW.toast(error.message, "error");
    }
    if (!document.hidden) setTimeout(refresh, REFRESH_MS);
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  refresh();
});
