// Sightwire UI: the helpers every page shares. No framework, no build step.
// The credential lives in this tab's sessionStorage and goes out as a header only.
"use strict";

const SW = (() => {
  const KEY = "sightwire.credential";
  // The sign-in under way with the provider: state, nonce, PKCE verifier, next page.
  const OIDC_KEY = "sightwire.oidc";

  function credential() {
    return sessionStorage.getItem(KEY);
  }

  function signIn(token) {
    sessionStorage.setItem(KEY, token);
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(OIDC_KEY);
    location.assign("/ui/signin");
  }

  // Back to sign in; `reason` ("expired", "refused") lets that page say why.
  // The first call wins: a page's scripts that run on after it must not replace
  // the address (and its reason) with their own.
  let leaving = false;
  function toSignIn(reason) {
    if (leaving) return;
    leaving = true;
    const next = location.pathname + location.search;
    const why = reason ? "&reason=" + reason : "";
    location.assign("/ui/signin?next=" + encodeURIComponent(next) + why);
  }

  // A JWT's claims, unchecked (the server checks the signature): null for API keys.
  function jwtClaims(token) {
    const parts = (token || "").split(".");
    if (parts.length !== 3) return null;
    try {
      const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return null;
    }
  }

  function expired(token) {
    const claims = jwtClaims(token);
    return claims !== null && typeof claims.exp === "number" && claims.exp * 1000 <= Date.now();
  }

  // fetch() with the credential; a 401 sends the user to sign in again.
  async function api(path, options = {}) {
    const token = credential();
    if (!token) {
      toSignIn();
      throw new Error("not signed in");
    }
    const headers = new Headers(options.headers || {});
    headers.set("Authorization", "Bearer " + token);
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401) {
      sessionStorage.removeItem(KEY);
      toSignIn(expired(token) ? "expired" : "refused");
      throw new Error("signed out");
    }
    return response;
  }

  // The problem document's words, for a person.
  async function problem(response) {
    try {
      const doc = await response.json();
      return doc.detail || doc.title || response.statusText;
    } catch {
      return response.status + " " + response.statusText;
    }
  }

  async function json(path) {
    const response = await api(path);
    if (!response.ok) throw new Error(await problem(response));
    return response.json();
  }

  async function send(method, path, body) {
    const response = await api(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body === undefined ? {} : body),
    });
    if (!response.ok) {
      const error = new Error(await problem(response));
      error.status = response.status;
      try { error.body = await response.clone().json(); } catch { /* not JSON */ }
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  // An <img> cannot send headers: fetch the picture and show it as a blob URL.
  async function loadImage(img, path) {
    const response = await api(path);
    if (!response.ok) throw new Error(await problem(response));
    return showBlob(img, await response.blob());
  }

  async function showBlob(img, blob) {
    const url = URL.createObjectURL(blob);
    const loaded = new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = reject;
    });
    const old = img.dataset.blob;
    img.src = url;
    img.dataset.blob = url;
    await loaded;
    if (old) URL.revokeObjectURL(old);
    return img;
  }

  // An MJPEG stream (multipart/x-mixed-replace, each part with its Content-Length)
  // read with fetch, for the same reason; each JPEG replaces the last in ``img``.
  // Resolves when the server ends the stream; ``signal`` aborts it.
  async function playJpegs(img, path, signal) {
    const response = await api(path, { signal });
    if (!response.ok) throw new Error(await problem(response));
    const reader = response.body.getReader();
    const latin1 = new TextDecoder("latin1"); // one character a byte: indexes stay bytes
    let pending = new Uint8Array(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      pending = joined(pending, value);
      for (;;) {
        const head = latin1.decode(pending.subarray(0, 1024));
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) break;
        const length = Number((/content-length:\s*(\d+)/i.exec(head.slice(0, end)) || [])[1]);
        if (!length) throw new Error("a stream part without its length");
        const start = end + 4;
        if (pending.length < start + length) break;
        await showBlob(img, new Blob([pending.slice(start, start + length)], { type: "image/jpeg" }));
        pending = pending.slice(start + length);
      }
    }
  }

  function joined(a, b) {
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    return both;
  }

  // Server-sent events over fetch (EventSource cannot send the credential).
  // Reconnects with backoff; onState("live" | "reconnecting") tells the page.
  function stream(path, onEvent, onState) {
    let stopped = false;
    let wait = 500;
    let lastId = null; // sent back on reconnecting: the server replays what was missed
    const seen = (message) => {
      if (message.id) lastId = message.id;
      onEvent(message);
    };
    async function run() {
      while (!stopped) {
        try {
          const headers = { Accept: "text/event-stream" };
          if (lastId) headers["Last-Event-ID"] = lastId;
          const response = await api(path, { headers });
          if (!response.ok) throw new Error(await problem(response));
          onState && onState("live");
          wait = 500;
          await readEvents(response.body, seen);
        } catch (error) {
          if (error.message === "signed out") return;
        }
        onState && onState("reconnecting");
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, 10000);
      }
    }
    run();
    return () => { stopped = true; };
  }

  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message = parseBlock(block);
        if (message.data) onEvent(message);
      }
    }
  }

  function parseBlock(block) {
    const message = { event: "message", data: "", id: null };
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue; // keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") message.data += (message.data ? "\n" : "") + value;
      else if (field === "event") message.event = value;
      else if (field === "id") message.id = value;
    }
    return message;
  }

  // Elements from data, never from HTML strings: nothing the server says is markup.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  // Boxes over a picture: the <svg> shares the image's pixel coordinates.
  function drawBoxes(svgNode, img, boxes, options = {}) {
    svgNode.setAttribute("viewBox", `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
    svgNode.querySelectorAll(".box").forEach((node) => node.remove());
    boxes.forEach((box, index) => {
      const [x1, y1, x2, y2] = box.box;
      const group = svg("g", {
        class: "box" + (box.added ? " added" : "") + (options.selected === index ? " selected" : ""),
      });
      group.append(svg("rect", { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }));
      // Labels sized to the picture, so they read the same on any camera resolution.
      const size = Math.max(12, Math.round(img.naturalWidth / 55));
      const text = svg("text", { x: x1 + 2, y: Math.max(y1 - 4, size), "font-size": size });
      text.textContent = box.label;
      group.append(text);
      svgNode.append(group);
    });
  }

  function objectLabel(object) {
    const parts = [object.class_name];
    if (object.track_id !== null && object.track_id !== undefined) parts.push("#" + object.track_id);
    if (object.confidence !== null && object.confidence !== undefined) {
      parts.push(Math.round(object.confidence * 100) + "%");
    }
    return parts.join(" ");
  }

  function when(epochOrIso) {
    const date = typeof epochOrIso === "number" ? new Date(epochOrIso * 1000) : new Date(epochOrIso);
    return date.toLocaleString();
  }

  let toastTimer = null;
  function toast(message, kind = "info") {
    const node = document.getElementById("toast");
    if (!node) return;
    node.textContent = message;
    node.className = "show " + kind;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.className = ""; }, 4000);
  }

  // Keys typed into a field are the field's, not the page's shortcuts.
  function typing(event) {
    const target = event.target;
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
  }

  let me = null;
  async function whoAmI() {
    if (!me) me = await json("/api/v1/me");
    return me;
  }

  function can(role) {
    const rank = { viewer: 1, operator: 2, admin: 3 };
    return me !== null && rank[me.role] >= rank[role];
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    if (page === "signin" || page === "callback") return;
    if (!credential()) { toSignIn(); return; }
    if (expired(credential())) {
      sessionStorage.removeItem(KEY);
      toSignIn("expired");
      return;
    }
    const out = document.getElementById("signout");
    if (out) out.addEventListener("click", signOut);
    whoAmI().then((who) => {
      const node = document.getElementById("who");
      if (node) node.textContent = `${who.subject} · ${who.role}`;
    }).catch(() => {});
  });

  return {
    api, json, send, loadImage, playJpegs, stream, el, svg, drawBoxes, objectLabel, when, toast,
    typing, whoAmI, can, signIn, signOut, credential, problem, jwtClaims, OIDC_KEY,
  };
})();
