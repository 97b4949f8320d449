"use strict";
// Sign in: check the credential against /api/v1/me before keeping it.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("signin-form");
  const input = document.getElementById("credential");
  const error = document.getElementById("signin-error");
  form.addEventListener("change", () => {
    const kind = form.elements.kind.value;
    input.placeholder = kind === "key" ? "sw_..." : "eyJ...";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const token = input.value.trim();
    const kind = form.elements.kind.value;
    if (kind === "key" && !token.startsWith("sw_")) {
      error.textContent = "An API key starts with sw_.";
      input.focus();
      return;
    }
    const response = await fetch("/api/v1/me", { headers: { Authorization: "Bearer " + token } });
    if (!response.ok) {
      error.textContent = response.status === 401
        ? "That key or token was not accepted." : await SW.problem(response);
      input.focus();
      return;
    }
    SW.signIn(token);
    input.value = "";
    const next = new URLSearchParams(location.search).get("next");
    // Only ever go back to one of our own pages.
    location.assign(next && next.startsWith("/ui/") ? next : "/ui/events");
  });
  input.focus();
});
