"use strict";
// Live: a tile per camera, its frames as the server's MJPEG stream sends them (boxes,
// zones, track ids drawn by the server), and its source state, polled.
document.addEventListener("DOMContentLoaded", async () => {
  const root = document.getElementById("tiles");
  const REFRESH_MS = 1000;
  const RETRY_MS = 2000;
  const FPS = 5;
  const tiles = new Map();

  function tile(camera) {
    const img = SW.el("img", { alt: `Latest frame of ${camera.name}` });
    const state = SW.el("span", { class: "pill" });
    const counts = SW.el("span", { class: "counts" });
    const node = SW.el("article", { class: "tile card", "data-camera": camera.name },
      SW.el("h2", {}, camera.name, " ", state), SW.el("div", { class: "frame" }, img),
      SW.el("p", {}, counts, " ", SW.el("a", { href: "/ui/zones?camera=" + encodeURIComponent(camera.name), text: "Zones" })));
    root.append(node);
    return { img, state, counts, playing: null };
  }

  // Play the camera's stream until the page hides; a dropped stream is opened again.
  async function play(name, t) {
    const controller = new AbortController();
    t.playing = controller;
    const path = `/api/v1/cameras/${encodeURIComponent(name)}/stream?overlays=true&fps=${FPS}`;
    while (!controller.signal.aborted) {
      try {
        await SW.playJpegs(t.img, path, controller.signal);
      } catch {
        if (controller.signal.aborted) break; // else dropped or refused: try again
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    if (t.playing === controller) t.playing = null;
  }

  function update(camera) {
    const t = tiles.get(camera.name) || tiles.set(camera.name, tile(camera)).get(camera.name);
    t.state.textContent = camera.state || "not running";
    t.state.className = "pill " + (camera.state || "off");
    t.counts.textContent = `${camera.fps} fps · ${camera.processed} frames · ${camera.events} events`;
    if (!t.playing && camera.frames_shown > 0 && !document.hidden) play(camera.name, t);
  }

  async function refresh() {
    try {
      (await SW.json("/api/v1/cameras")).forEach(update);
    } catch (error) {
      SW.toast(error.message, "error");
    }
    if (!document.hidden) setTimeout(refresh, REFRESH_MS);
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) return refresh();
    for (const t of tiles.values()) if (t.playing) t.playing.abort(); // no frames unseen
  });
  refresh();
});
