"use strict";
// Zones: draw and edit a camera's polygons and lines on its latest frame, then save.
// Click to add points; Enter (or "Finish shape") closes a zone; a line ends at its
// second point. Drag a corner to move it. Escape cancels the shape being drawn.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("zone-camera");
  const figure = document.getElementById("zone-shot");
  const img = figure.querySelector("img");
  const overlay = figure.querySelector("svg");
  const result = document.getElementById("zone-result");
  const errorList = document.getElementById("zone-errors");
  let shapes = { zones: {}, lines: {} };
  let drawing = null; // { kind, name, points }
  let size = [1280, 720];

  function point(event) {
    const rect = overlay.getBoundingClientRect();
    return [Math.round(((event.clientX - rect.left) / rect.width) * size[0]),
            Math.round(((event.clientY - rect.top) / rect.height) * size[1])];
  }

  function render() {
    overlay.setAttribute("viewBox", `0 0 ${size[0]} ${size[1]}`);
    overlay.replaceChildren();
    for (const [kind, group] of [["zone", shapes.zones], ["line", shapes.lines]]) {
      for (const [name, points] of Object.entries(group)) shape(kind, name, points, false);
    }
    if (drawing) shape(drawing.kind, drawing.name, drawing.points, true);
    list();
  }

  function shape(kind, name, points, draft) {
    const text = points.map((p) => p.join(",")).join(" ");
    const tag = kind === "zone" && !draft ? "polygon" : "polyline";
    overlay.append(SW.svg(tag, { points: text, class: `${kind}${draft ? " draft" : ""}`, "data-name": name }));
    if (points.length) {
      const font = Math.max(12, Math.round(size[0] / 55));
      const label = SW.svg("text", { x: points[0][0] + 4, y: Math.max(points[0][1] - 6, font + 4),
        class: kind + "-label", "font-size": font });
      label.textContent = name;
      overlay.append(label);
    }
    points.forEach((p, i) => {
      const handle = SW.svg("circle", { cx: p[0], cy: p[1], r: Math.max(size[0] / 160, 4), class: "handle" });
      if (!draft) handle.addEventListener("pointerdown", (event) => dragCorner(event, points, i));
      overlay.append(handle);
    });
  }

  function dragCorner(event, points, i) {
    event.stopPropagation();
    overlay.setPointerCapture(event.pointerId);
    const moveTo = (e) => { points[i] = point(e); render(); };
    const done = () => {
      overlay.removeEventListener("pointermove", moveTo);
      overlay.removeEventListener("pointerup", done);
    };
    overlay.addEventListener("pointermove", moveTo);
    overlay.addEventListener("pointerup", done);
  }

  function list() {
    const node = document.getElementById("shapes");
    const rows = [];
    for (const [kind, group] of [["zone", shapes.zones], ["line", shapes.lines]]) {
      for (const name of Object.keys(group)) {
        rows.push(SW.el("li", { "data-shape": name },
          SW.el("span", { text: `${kind === "zone" ? "Zone" : "Line"} ${name} (${group[name].length} points)` }),
          SW.el("button", { type: "button", class: "link", text: "Delete", "aria-label": `Delete ${kind} ${name}`,
            onclick: () => { delete group[name]; render(); } })));
      }
    }
    node.replaceChildren(...(rows.length ? rows : [SW.el("li", { text: "No zones or lines yet." })]));
  }

  function startDrawing() {
    const name = document.getElementById("shape-name").value.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.\-]*$/.test(name)) {
      SW.toast("Give the shape a name: letters, digits, _ . -", "error");
      document.getElementById("shape-name").focus();
      return;
    }
    const kind = document.querySelector('input[name="shape-kind"]:checked').value;
    drawing = { kind, name, points: [] };
    figure.classList.add("drawing");
    document.getElementById("zone-help").textContent =
      kind === "zone" ? "Click the corners; Enter or Finish closes the zone." : "Click the line's two ends.";
    render();
  }

  function finish() {
    if (!drawing) return;
    const { kind, name, points } = drawing;
    const enough = kind === "zone" ? points.length >= 3 : points.length === 2;
    if (!enough) { SW.toast(kind === "zone" ? "A zone needs 3 corners or more." : "A line needs 2 points.", "error"); return; }
    (kind === "zone" ? shapes.zones : shapes.lines)[name] = points;
    delete (kind === "zone" ? shapes.lines : shapes.zones)[name];
    drawing = null;
    figure.classList.remove("drawing");
    render();
  }

  // The keyboard's way to a shape: its points typed, "x, y" a line.
  function typedShape() {
    const text = document.getElementById("shape-points").value;
    const points = text.split(/[\n;]+/).map((line) => line.trim()).filter(Boolean)
      .map((line) => line.split(/[\s,]+/).map(Number));
    if (!points.length || points.some((p) => p.length !== 2 || p.some((v) => !Number.isFinite(v)))) {
      SW.toast("Write each point as x, y on its own line.", "error");
      return;
    }
    startDrawing();
    if (!drawing) return;
    drawing.points = points;
    finish();
  }

  overlay.addEventListener("click", (event) => {
    if (!drawing) return;
    drawing.points.push(point(event));
    if (drawing.kind === "line" && drawing.points.length === 2) finish();
    else render();
  });
  document.addEventListener("keydown", (event) => {
    if (!drawing) return;
    if (event.key === "Enter" && !SW.typing(event)) { event.preventDefault(); finish(); }
    if (event.key === "Escape") { drawing = null; figure.classList.remove("drawing"); render(); }
  });

  async function save() {
    result.textContent = "";
    errorList.replaceChildren();
    try {
      const saved = await SW.send("PUT", `/api/v1/cameras/${encodeURIComponent(select.value)}/zones`,
        { zones: shapes.zones, lines: shapes.lines });
      shapes = { zones: saved.zones, lines: saved.lines };
      render();
      result.textContent = saved.applied ? "Saved and applied to the running pipeline." : "Saved (no pipeline runs here).";
      result.dataset.state = saved.applied ? "applied" : "saved";
    } catch (error) {
      result.textContent = error.message;
      result.dataset.state = "error";
      const problems = (error.body && error.body.errors) || [];
      errorList.replaceChildren(...problems.map((p) =>
        SW.el("li", { text: `${p.path || (p.loc || []).join(".")}: ${p.message || p.msg}` })));
    }
  }

  async function load() {
    const camera = select.value;
    if (!camera) return;
    const data = await SW.json(`/api/v1/cameras/${encodeURIComponent(camera)}/zones`);
    shapes = { zones: data.zones, lines: data.lines };
    document.getElementById("save-zones").disabled = !data.editable || !SW.can("admin");
    try {
      await SW.loadImage(img, `/api/v1/cameras/${encodeURIComponent(camera)}/frame?overlays=false`);
      size = [img.naturalWidth, img.naturalHeight];
    } catch {
      figure.querySelector("figcaption").textContent = "No frame yet: drawing on a blank 1280×720 area.";
    }
    render();
  }

  document.getElementById("draw").addEventListener("click", startDrawing);
  document.getElementById("finish").addEventListener("click", finish);
  document.getElementById("typed").addEventListener("click", typedShape);
  document.getElementById("save-zones").addEventListener("click", save);
  select.addEventListener("change", () => load().catch((e) => SW.toast(e.message, "error")));
  (async () => {
    try {
      await SW.whoAmI().catch(() => null);
      const cameras = await SW.json("/api/v1/cameras");
      select.replaceChildren(...cameras.map((c) => SW.el("option", { value: c.name, text: c.name })));
      const wanted = new URLSearchParams(location.search).get("camera");
      if (wanted) select.value = wanted;
      await load();
    } catch (error) {
      SW.toast(error.message, "error");
    }
  })();
});
