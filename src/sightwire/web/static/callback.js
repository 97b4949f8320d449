"use strict";
// The provider sent the user back here with #code=&state= (or error=). Check the
// state against the sign-in this tab started, redeem the code with the PKCE
// verifier, check the ID token's nonce, then keep the access token like an API key.
(() => {
  class Refused extends Error {}

  // The sign-in this tab started; used once, whatever happens next.
  function takePending() {
    const raw = sessionStorage.getItem(SW.OIDC_KEY);
    sessionStorage.removeItem(SW.OIDC_KEY);
    try {
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  }

  async function settings() {
    const response = await fetch("/ui/signin/config");
    const body = response.ok ? await response.json() : null;
    if (!body || !body.oidc) {
      throw new Refused((body && body.oidc_problem) || "Signing in with a provider is not set up here.");
    }
    return body.oidc;
  }

  async function redeem(oidc, code, pending) {
    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: location.origin + "/ui/callback",
      client_id: oidc.client_id,
      code_verifier: pending.verifier,
    });
    let response;
    try {
      response = await fetch(oidc.token_endpoint, { method: "POST", body: form, credentials: "omit" });
    } catch {
      throw new Refused("The identity provider's token endpoint could not be reached " +
        "(is this site's origin allowed there for cross-origin requests?).");
    }
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    if (!response.ok) {
      const why = [body.error, body.error_description].filter(Boolean).join(": ");
      throw new Refused("The identity provider refused the sign-in: " + (why || response.status) + ".");
    }
    return body;
  }

  // OIDC Core 3.1.3.7: an ID token straight from the token endpoint over TLS needs
  // no signature check here; its issuer, audience and nonce must still be ours.
  function checkIdToken(idToken, oidc, pending) {
    if (!idToken) return;
    const claims = SW.jwtClaims(idToken);
    if (!claims) throw new Refused("The identity provider's ID token is not readable.");
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== oidc.issuer || !audience.includes(oidc.client_id)) {
      throw new Refused("The ID token is from another issuer or for another client: refused.");
    }
    if (claims.nonce !== pending.nonce) {
      throw new Refused("The ID token's nonce does not match this sign-in: refused.");
    }
  }

  async function finish(params, pending) {
    if (params.has("error")) {
      const why = params.get("error_description") || params.get("error");
      throw new Refused("The identity provider refused the sign-in: " + why + ".");
    }
    if (!pending) {
      throw new Refused("No sign-in was started in this tab, or it was finished already.");
    }
    if (!params.get("state") || params.get("state") !== pending.state) {
      // Someone else's code (login CSRF), or a stale answer: never redeem it.
      throw new Refused("The answer does not match the sign-in started in this tab " +
        "(state differs): refused.");
    }
    const code = params.get("code");
    if (!code) throw new Refused("The identity provider sent no code.");
    const oidc = await settings();
    const tokens = await redeem(oidc, code, pending);
    checkIdToken(tokens.id_token, oidc, pending);
    const token = tokens.access_token;
    if (typeof token !== "string" || !SW.jwtClaims(token)) {
      throw new Refused("The provider's access token is not a JWT, which Sightwire cannot " +
        "check: ask for a token for Sightwire's audience (see the docs).");
    }
    const me = await fetch("/api/v1/me", { headers: { Authorization: "Bearer " + token } });
    if (!me.ok) {
      throw new Refused(me.status === 401
        ? "Signed in at the identity provider, but Sightwire does not accept its token " +
          "(audience or role; the server's log says which)."
        : await SW.problem(me));
    }
    SW.signIn(token);
    return pending.next;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    // The answer is in the fragment (response_mode=fragment: it never reaches a
    // server's log), or in the query from a provider that cannot do that.
    const params = new URLSearchParams(location.hash.slice(1) || location.search);
    // The code is single-use, but it has no business in the history or a bookmark.
    history.replaceState(null, "", "/ui/callback");
    const pending = takePending();
    try {
      const next = await finish(params, pending);
      location.replace(next && next.startsWith("/ui/") ? next : "/ui/events");
    } catch (failure) {
      document.getElementById("callback-status").textContent = "Not signed in.";
      document.getElementById("callback-error").textContent =
        failure instanceof Refused ? failure.message : "Signing in failed: " + failure.message;
      const again = document.getElementById("callback-again");
      again.hidden = false;
      again.querySelector("a").focus();
    }
  });
})();
