"use strict";
// Sign in: with an API key (checked against /api/v1/me before keeping it), or with
// the identity provider by the authorization code flow with PKCE (callback.js ends it).
(() => {
  const NOTICES = {
    expired: "Your sign-in has expired. Sign in again.",
    refused: "Your credential is no longer accepted. Sign in again.",
  };

  // Only ever go back to one of our own pages.
  function nextPage() {
    const next = new URLSearchParams(location.search).get("next");
    return next && next.startsWith("/ui/") && !next.startsWith("/ui/callback") ? next : "/ui/events";
  }

  // base64url without padding (RFC 7636 appendix A).
  function base64url(bytes) {
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function random(bytes) {
    return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
  }

  // Off to the provider: what the callback must check is kept in this tab only.
  async function startProviderSignIn(oidc) {
    if (!window.isSecureContext || !crypto.subtle) {
      throw new Error("Signing in with the provider needs HTTPS (or localhost).");
    }
    const verifier = random(32); // 43 characters, 256 bits
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    const pending = { state: random(16), nonce: random(16), verifier, next: nextPage() };
    sessionStorage.setItem(SW.OIDC_KEY, JSON.stringify(pending));
    const url = new URL(oidc.authorization_endpoint);
    for (const [name, value] of Object.entries(oidc.authorize_params)) {
      url.searchParams.set(name, value);
    }
    const params = {
      response_type: "code",
      client_id: oidc.client_id,
      redirect_uri: location.origin + "/ui/callback",
      scope: oidc.scopes.join(" "),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: base64url(new Uint8Array(digest)),
      code_challenge_method: "S256",
      response_mode: oidc.response_mode,
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    location.assign(url.toString());
  }

  async function showMethods(error) {
    let settings;
    try {
      const response = await fetch("/ui/signin/config");
      if (!response.ok) throw new Error(await SW.problem(response));
      settings = await response.json();
    } catch {
      return; // the API key form works without the settings
    }
    if (settings.bearer_tokens) {
      document.getElementById("kind-choice").hidden = false;
      document.getElementById("bearer-hint").hidden = false;
    }
    if (settings.oidc_problem) error.textContent = settings.oidc_problem;
    const oidc = settings.oidc;
    if (!oidc) return;
    const button = document.getElementById("oidc-button");
    button.textContent = "Sign in with " + oidc.label;
    button.addEventListener("click", async () => {
      error.textContent = "";
      button.disabled = true;
      try {
        await startProviderSignIn(oidc);
      } catch (failure) {
        error.textContent = failure.message;
        button.disabled = false;
      }
    });
    document.getElementById("oidc-signin").hidden = false;
    button.focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("signin-form");
    const input = document.getElementById("credential");
    const error = document.getElementById("signin-error");
    const reason = new URLSearchParams(location.search).get("reason");
    if (Object.hasOwn(NOTICES, reason)) {
      document.getElementById("signin-notice").textContent = NOTICES[reason];
    }
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
      location.assign(nextPage());
    });
    input.focus();
    showMethods(error);
  });
})();
