// Passkeys (WebAuthn) for the second step: "Add a passkey" on the sign-in security page, "Use a passkey" on the
// second step after the password. The server's ceremonies are django-otp-webauthn's (JSON with base64url bytes);
// this only turns those into the browser's ArrayBuffers and back, so the page needs no inline script.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    if (input) { return input.value; }
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.detail || "The server refused the passkey."); }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, { id: toBuffer(item.id) }); });
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      json.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return json;
  }

  function failed(error, message) {
    var target = document.getElementById("passkey-error");
    if (!target) { return; }
    target.textContent = error && error.name === "NotAllowedError"
      ? "The passkey was not used (cancelled or timed out). Try again, or use your code."
      : message + (error && error.message ? " (" + error.message + ")" : "");
  }

  function supported() {
    if (window.PublicKeyCredential && navigator.credentials) { return true; }
    failed(null, "This browser cannot use passkeys. Use your authenticator app's code instead.");
    return false;
  }

  var add = document.getElementById("passkey-add");
  if (add) {
    add.addEventListener("click", function () {
      if (!supported()) { return; }
      add.disabled = true;
      post(add.getAttribute("data-begin-url")).then(function (options) {
        options.challenge = toBuffer(options.challenge);
        options.user = Object.assign({}, options.user, { id: toBuffer(options.user.id) });
        options.excludeCredentials = descriptors(options.excludeCredentials);
        return navigator.credentials.create({ publicKey: options });
      }).then(function (credential) {
        return post(add.getAttribute("data-complete-url"), credentialJSON(credential));
      }).then(function () {
        window.location.reload();
      }).catch(function (error) {
        add.disabled = false;
        failed(error, "The passkey could not be added.");
      });
    });
  }

  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    signIn.addEventListener("click", function () {
      if (!supported()) { return; }
      signIn.disabled = true;
      post(signIn.getAttribute("data-begin-url")).then(function (options) {
        options.challenge = toBuffer(options.challenge);
        options.allowCredentials = descriptors(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options });
      }).then(function (credential) {
        return post(signIn.getAttribute("data-complete-url"), credentialJSON(credential));
      }).then(function (answer) {
        window.location.assign(answer.redirect_url || "/");
      }).catch(function (error) {
        signIn.disabled = false;
        failed(error, "The passkey did not sign you in.");
      });
    });
  }
})();
