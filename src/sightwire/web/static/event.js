"use strict";
// One event: snapshot with boxes, details, attributes, deliveries, acknowledge.
document.addEventListener("DOMContentLoaded", () => {
  const id = document.getElementById("event-title").dataset.eventId;
  const base = "/api/v1/events/" + encodeURIComponent(id);

  function pairs(node, entries) {
    node.replaceChildren();
    for (const [key, value] of entries) {
      const shown = typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
      node.append(SW.el("dt", { text: key }), SW.el("dd", { text: shown }));
    }
  }

  function show(item) {
    const event = item.event;
    const data = event.data;
    document.getElementById("event-title").textContent = `${data.rule} on ${data.camera}`;
    const status = document.getElementById("event-status");
    status.textContent = item.status;
    status.className = "pill " + item.status;
    pairs(document.getElementById("details"), [
      ["Id", event.id], ["Type", event.type], ["Time", SW.when(event.time)],
      ["Captured", SW.when(data.captured_at)], ["Severity", data.severity],
      ["Model", data.model ? `${data.model.name} ${data.model.version}` : "—"],
      ["Latency", data.latency_ms === null ? "—" : `${Math.round(data.latency_ms)} ms`],
      ...item.reviews.map((step) => [step.action, `${step.by} · ${SW.when(step.at)}${step.comment ? " · " + step.comment : ""}`]),
    ]);
    pairs(document.getElementById("attributes"), Object.entries(data.attributes));
    const objects = document.querySelector("#objects tbody");
    objects.replaceChildren(...data.objects.map((o) => SW.el("tr", {},
      SW.el("td", { text: o.class_name }), SW.el("td", { text: o.confidence.toFixed(2) }),
      SW.el("td", { text: o.track_id ?? "—" }), SW.el("td", { text: o.box.map(Math.round).join(", ") }))));
    document.getElementById("ack").disabled = item.status !== "new" || !SW.can("operator");
    document.getElementById("resolve").disabled = item.status === "resolved" || !SW.can("operator");
    return data;
  }

  async function snapshot(data) {
    const figure = document.getElementById("snapshot");
    const img = figure.querySelector("img");
    if (!data.snapshot) { figure.querySelector("figcaption").textContent = "No snapshot."; return; }
    await SW.loadImage(img, base + "/snapshot");
    SW.drawBoxes(figure.querySelector("svg"), img,
      data.objects.map((o) => ({ box: o.box, label: SW.objectLabel(o) })));
  }

  async function deliveries() {
    const rows = await SW.json(base + "/deliveries");
    document.querySelector("#deliveries tbody").replaceChildren(...rows.map((d) => SW.el("tr", { "data-destination": d.destination },
      SW.el("td", { text: d.destination }),
      SW.el("td", {}, SW.el("span", { class: "pill " + d.state, text: d.state })),
      SW.el("td", { text: d.attempts }), SW.el("td", { text: d.last_error || "—" }),
      SW.el("td", {}, SW.el("button", { type: "button", disabled: !SW.can("operator"), text: "Retry",
        "aria-label": `Retry the delivery to ${d.destination}`, onclick: () => retry(d.id) })))));
  }

  async function retry(id) {
    try {
      await SW.send("POST", `/api/v1/deliveries/${encodeURIComponent(id)}/retry`);
      SW.toast("Queued again.");
      await deliveries();
    } catch (error) {
      SW.toast(error.message, "error");
    }
  }

  async function review(action) {
    const comment = document.getElementById("comment").value || null;
    try {
      show(await SW.send("POST", `${base}/${action}`, { comment }));
      SW.toast(action === "acknowledge" ? "Acknowledged." : "Resolved.");
    } catch (error) {
      SW.toast(error.message, "error");
    }
  }

  document.getElementById("ack").addEventListener("click", () => review("acknowledge"));
  document.getElementById("resolve").addEventListener("click", () => review("resolve"));
  (async () => {
    try {
      await SW.whoAmI().catch(() => null);
      const data = show(await SW.json(base));
      await Promise.all([snapshot(data), deliveries()]);
    } catch (error) {
      SW.toast(error.message, "error");
    }
  })();
});
