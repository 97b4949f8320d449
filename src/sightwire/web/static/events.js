"use strict";
// Events: the timeline, filters, and new events arriving over the SSE stream.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("filters");
  const body = document.querySelector("#events tbody");
  const more = document.getElementById("more");
  const state = document.getElementById("live-state");
  let cursor = null;

  function filters() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (!value) continue;
      params.set(name, name === "since" ? new Date(value).toISOString() : value);
    }
    return params;
  }

  function matches(event) {
    const wanted = filters();
    const rank = { info: 1, warning: 2, critical: 3 };
    if (wanted.get("camera") && event.data.camera !== wanted.get("camera")) return false;
    if (wanted.get("rule") && event.data.rule !== wanted.get("rule")) return false;
    const type = wanted.get("type");
    if (type && !(type.endsWith("*") ? event.type.startsWith(type.slice(0, -1)) : event.type === type)) return false;
    const severity = wanted.get("min_severity");
    return !severity || rank[event.data.severity] >= rank[severity];
  }

  function row(item, fresh) {
    const event = item.event;
    const link = SW.el("a", { href: "/ui/events/" + encodeURIComponent(event.id), text: SW.when(event.time) });
    const objects = event.data.objects.map((o) => o.class_name).join(", ");
    return SW.el("tr", { "data-event-id": event.id, class: fresh ? "fresh" : null },
      SW.el("td", {}, link),
      SW.el("td", { text: event.data.rule }),
      SW.el("td", { text: event.data.camera }),
      SW.el("td", {}, SW.el("span", { class: "sev " + event.data.severity, text: event.data.severity })),
      SW.el("td", { text: objects || "—" }),
      SW.el("td", { class: "status", text: item.status || "new" }));
  }

  async function load(append) {
    const params = filters();
    if (append && cursor) params.set("cursor", cursor);
    try {
      const page = await SW.json("/api/v1/events?" + params);
      if (!append) body.replaceChildren();
      page.items.forEach((item) => body.append(row(item, false)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      SW.toast(error.message, "error");
    }
  }

  async function cameras() {
    const select = form.elements.camera;
    try {
      for (const camera of await SW.json("/api/v1/cameras")) {
        select.append(SW.el("option", { value: camera.name, text: camera.name }));
      }
    } catch { /* a viewer without cameras still sees events */ }
  }

  function arrived(message) {
    let parsed;
    try { parsed = JSON.parse(message.data); } catch { return; }
    const item = parsed.event ? parsed : { event: parsed, status: "new" };
    if (!item.event || !item.event.data || !matches(item.event)) return;
    if (body.querySelector(`tr[data-event-id="${CSS.escape(item.event.id)}"]`)) return;
    body.prepend(row(item, true));
  }

  // A link such as /ui/events?rule=parcel.seen opens the timeline filtered.
  for (const [name, value] of new URLSearchParams(location.search)) {
    if (form.elements[name] && name !== "camera" && name !== "since") form.elements[name].value = value;
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  cameras();
  load(false);
  SW.stream("/api/v1/events/stream", arrived, (now) => {
    state.textContent = now === "live" ? "live" : "reconnecting…";
    state.className = "pill " + now;
  });
});
