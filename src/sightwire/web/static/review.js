"use strict";
// Review: one item at a time; confirm, reject, relabel, add a box by dragging.
// Keys: y confirm, n reject, r relabel, a add box, j/k next/previous, 1-9 select a box.
document.addEventListener("DOMContentLoaded", () => {
  const figure = document.getElementById("review-shot");
  const img = figure.querySelector("img");
  const overlay = figure.querySelector("svg");
  const classInput = document.getElementById("class-name");
  const addButton = document.getElementById("add-box");
  const queueBody = document.querySelector("#queue tbody");
  let items = [];
  let index = 0;
  let selected = null; // index into the current item's labels
  let adding = false;

  const current = () => items[index];

  async function loadQueue(keepId) {
    const page = await SW.json("/api/v1/review/items?limit=200");
    items = page.items;
    if (keepId && !items.some((item) => item.id === keepId)) {
      // An item asked for by link (an event's "Review it") that is past the first page.
      try { items.unshift((await SW.json(`/api/v1/review/items/${encodeURIComponent(keepId)}`)).item); }
      catch { SW.toast("That item is not in the review queue.", "error"); }
    }
    const at = keepId ? items.findIndex((item) => item.id === keepId) : -1;
    index = at >= 0 ? at : Math.min(index, Math.max(items.length - 1, 0));
    const pending = items.filter((item) => item.state === "pending").length;
    document.getElementById("queue-count").textContent = `${pending} pending`;
    renderQueue();
    await show();
  }

  function renderQueue() {
    queueBody.replaceChildren(...items.map((item, i) => {
      const link = SW.el("button", { type: "button", class: "link", text: item.id.slice(-8),
        "aria-label": `Review item ${item.id}`, onclick: () => { index = i; show(); } });
      return SW.el("tr", { "data-item-id": item.id, "aria-current": i === index ? "true" : null },
        SW.el("td", {}, link), SW.el("td", { text: item.kind }), SW.el("td", { text: item.rule || "—" }),
        SW.el("td", { text: item.camera }),
        SW.el("td", {}, SW.el("span", { class: "pill " + item.state, text: item.state })));
    }));
  }

  function details(item) {
    const node = document.getElementById("item-details");
    node.replaceChildren();
    const rows = [["Id", item.id], ["Kind", item.kind], ["Camera", item.camera],
      ["Rule", item.rule || "—"], ["Model", item.model || "—"],
      ...(item.threshold !== null && item.threshold !== undefined ? [["Threshold", item.threshold]] : []),
      ["Captured", SW.when(item.captured_at)], ["State", item.state],
      ["Reviewed", item.reviewed_by ? `${item.reviewed_by} · ${SW.when(item.reviewed_at)}` : "—"]];
    for (const [key, value] of rows) node.append(SW.el("dt", { text: key }), SW.el("dd", { text: value }));
    node.dataset.itemId = item.id;
    node.dataset.state = item.state;
  }

  function labels(item) {
    const list = document.getElementById("labels");
    list.replaceChildren(...item.labels.map((label, i) => SW.el("li", {},
      SW.el("button", { type: "button", class: "link", "aria-pressed": String(selected === i),
        text: `${i + 1}. ${label.class_name}${label.added ? " (added)" : ""}` +
          (label.confidence !== undefined && label.confidence !== null ? ` ${Math.round(label.confidence * 100)}%` : ""),
        onclick: () => select(i) }))));
    if (!item.labels.length) list.append(SW.el("li", { text: "No boxes." }));
    const names = new Set(item.labels.map((label) => label.class_name));
    document.getElementById("class-names").replaceChildren(...[...names].map((n) => SW.el("option", { value: n })));
  }

  function drawn(item) {
    SW.drawBoxes(overlay, img, item.labels.map((label) => ({
      box: label.box, added: label.added,
      label: label.class_name + (label.track_id !== undefined && label.track_id !== null ? " #" + label.track_id : ""),
    })), { selected });
  }

  async function show() {
    const item = current();
    renderQueue();
    if (!item) {
      document.getElementById("item-details").replaceChildren(SW.el("dd", { text: "The queue is empty." }));
      return;
    }
    selected = item.labels.length ? 0 : null;
    details(item);
    labels(item);
    figure.querySelector("figcaption").textContent = `${item.camera} · ${SW.when(item.captured_at)}`;
    if (item.snapshot) {
      try {
        await SW.loadImage(img, `/api/v1/review/items/${encodeURIComponent(item.id)}/image`);
      } catch (error) { SW.toast(error.message, "error"); }
    }
    drawn(item);
  }

  function select(i) {
    const item = current();
    if (!item || i < 0 || i >= item.labels.length) return;
    selected = i;
    labels(item);
    drawn(item);
  }

  async function decide(decision) {
    const item = current();
    if (!item) return;
    try {
      const updated = await SW.send("POST", `/api/v1/review/items/${encodeURIComponent(item.id)}/decisions`, decision);
      items[index] = updated;
      SW.toast(`${decision.action}: ${updated.state}`);
      const moveOn = decision.action === "confirm" || decision.action === "reject";
      if (moveOn && index < items.length - 1) index += 1;
      await show();
      document.getElementById("queue-count").textContent =
        `${items.filter((i) => i.state === "pending").length} pending`;
    } catch (error) {
      SW.toast(error.message, "error");
    }
  }

  function relabel() {
    const item = current();
    if (!item || selected === null) { SW.toast("Select a box first (1-9)."); return; }
    const name = classInput.value.trim();
    if (!name) { classInput.focus(); SW.toast("Type the class, then press r again."); return; }
    decide({ action: "relabel", object_id: item.labels[selected].id, class_name: name });
  }

  function toggleAdding(on) {
    adding = on;
    addButton.setAttribute("aria-pressed", String(on));
    figure.classList.toggle("drawing", on);
    if (on && !classInput.value.trim()) SW.toast("Type the class of the new box, then drag on the image.");
  }

  // Drag on the picture to draw a missing box; coordinates in the picture's pixels.
  function imagePoint(event) {
    const rect = overlay.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * img.naturalWidth;
    const y = ((event.clientY - rect.top) / rect.height) * img.naturalHeight;
    return [Math.max(0, Math.min(img.naturalWidth, x)), Math.max(0, Math.min(img.naturalHeight, y))];
  }
  let start = null;
  let ghost = null;
  overlay.addEventListener("pointerdown", (event) => {
    if (!adding || !current()) return;
    start = imagePoint(event);
    ghost = SW.svg("rect", { class: "ghost", x: start[0], y: start[1], width: 0, height: 0 });
    overlay.append(ghost);
    overlay.setPointerCapture(event.pointerId);
  });
  overlay.addEventListener("pointermove", (event) => {
    if (!start) return;
    const [x, y] = imagePoint(event);
    ghost.setAttribute("x", Math.min(x, start[0]));
    ghost.setAttribute("y", Math.min(y, start[1]));
    ghost.setAttribute("width", Math.abs(x - start[0]));
    ghost.setAttribute("height", Math.abs(y - start[1]));
  });
  overlay.addEventListener("pointerup", (event) => {
    if (!start) return;
    const [x, y] = imagePoint(event);
    const box = [Math.min(x, start[0]), Math.min(y, start[1]), Math.max(x, start[0]), Math.max(y, start[1])];
    start = null;
    ghost.remove();
    const name = classInput.value.trim();
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2) return;
    if (!name) { SW.toast("Type the class of the new box first.", "error"); classInput.focus(); return; }
    toggleAdding(false);
    decide({ action: "add_box", class_name: name, box: box.map((v) => Math.round(v * 10) / 10) });
  });

  const move = (step) => {
    if (!items.length) return;
    index = Math.max(0, Math.min(items.length - 1, index + step));
    show();
  };
  document.getElementById("confirm").addEventListener("click", () => decide({ action: "confirm" }));
  document.getElementById("reject").addEventListener("click", () => decide({ action: "reject" }));
  document.getElementById("relabel").addEventListener("click", relabel);
  addButton.addEventListener("click", () => toggleAdding(!adding));
  document.getElementById("next").addEventListener("click", () => move(1));
  document.getElementById("prev").addEventListener("click", () => move(-1));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { toggleAdding(false); event.target.blur && event.target.blur(); return; }
    if (SW.typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    const actions = {
      y: () => decide({ action: "confirm" }), n: () => decide({ action: "reject" }),
      r: relabel, a: () => toggleAdding(!adding), j: () => move(1), k: () => move(-1),
    };
    if (actions[event.key]) { event.preventDefault(); actions[event.key](); return; }
    if (/^[1-9]$/.test(event.key)) select(Number(event.key) - 1);
  });
  classInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); relabel(); }
  });
  loadQueue(new URLSearchParams(location.search).get("item")).catch((error) => SW.toast(error.message, "error"));
});
