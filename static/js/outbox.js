// The chart's outbox: every chart write is kept on the tablet (IndexedDB) before it is sent, and sent in order,
// once, when there is a connection. The server applies an entry once whatever the retries (its id is a unique key),
// so sending again is always safe. What the nurse sees:
//   - each entry at once, in its section, "waiting to send" until the server confirms it;
//   - "needs you" when the server refuses an entry that was recorded offline (the section changed meanwhile, or a
//     rule refuses it now), with its reason and her choices: send again on the current version, edit, or discard
//     with a reason (recorded on the server). The queue waits behind it, so later entries keep their order;
//   - a banner: offline, how many entries wait, and whether the pages are ready offline.
// Entries belong to the nurse who recorded them: they are sent only while she is signed in on this tablet.
// Kept pages (service worker) are deleted at sign-out; waiting entries are kept until sent or discarded by her, and
// so is the draft of her note (signing, which saves it, needs a connection).
(function () {
  "use strict";

  var body = document.body;
  var user = body.getAttribute("data-resume-user") || "";
  var DB_NAME = "infusion-chart";
  var STORE = "outbox";
  var PAGES = "pages"; // the service worker's cache of kept pages
  var RETRY_MS = 15000;
  var PROBE_URL = body.getAttribute("data-offline-probe") || "/manifest.webmanifest";
  var chart = document.querySelector("[data-outbox-visit]");
  var banner = document.getElementById("offline-banner");
  var offline = false;
  var flushing = false;
  var justSubmitted = {}; // entry id → its form, while the nurse waits on this screen for the first answer
  var lastFields = new WeakMap(); // form → {key, id}: a second tap on the same entry is not a second entry

  // ---- storage ------------------------------------------------------------------------------------------------
  var opened = null;
  function database() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "id" }); };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }

  function withStore(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { resolve(request ? request.result : undefined); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function allEntries() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (entries) {
      return (entries || []).sort(function (a, b) { return a.seq - b.seq; });
    });
  }
  function keep(entry) { return withStore("readwrite", function (store) { return store.put(entry); }); }
  function drop(id) { return withStore("readwrite", function (store) { return store["delete"](id); }); }

  // ---- what an entry looks like ---------------------------------------------------------------------------------
  function token() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function localIso(date) {
    // The nurse's moment with the tablet's offset, e.g. 2026-12-02T10:42:05-05:00.
    var offset = -date.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    function two(n) { return String(Math.floor(Math.abs(n))).padStart(2, "0"); }
    return date.getFullYear() + "-" + two(date.getMonth() + 1) + "-" + two(date.getDate()) + "T" + two(date.getHours())
      + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds()) + sign + two(offset / 60) + ":" + two(offset % 60);
  }

  // Times are shown as the chart shows them: in the patient's zone (the tablet's own zone elsewhere).
  var zone = (chart && chart.getAttribute("data-outbox-zone")) || undefined;
  var hhmm;
  try {
    hhmm = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
  } catch (e) {
    hhmm = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }
  function clock(iso) { return hhmm.format(new Date(iso)); }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function labelOf(form, field) {
    var label = field.id && form.querySelector('label[for="' + field.id + '"]');
    var text = label ? label.textContent : field.getAttribute("aria-label") || field.name;
    return text.replace(/\s+/g, " ").replace(/[*:]\s*$/, "").trim();
  }

  function summary(form, submitter) {
    // A short line in the nurse's words: "Systolic 120 · Diastolic 80 · Pulse 72".
    var parts = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.type === "hidden" || field.type === "submit" || field.type === "button") { return; }
      if ((field.type === "checkbox" || field.type === "radio") && !field.checked) { return; }
      var value = field.tagName === "SELECT" ? (field.selectedOptions[0] || {}).textContent || "" : field.value;
      value = String(value).trim();
      if (!value) { return; }
      var checked = field.type === "checkbox" || field.type === "radio";
      parts.push(checked ? labelOf(form, field) : labelOf(form, field) + ": " + value);
    });
    // The button says what a one-tap entry is ("Raise to 126.0 mL/hr now"); a plain "Save …" adds nothing.
    var pressed = submitter ? submitter.textContent.replace(/\s+/g, " ").trim() : "";
    if (pressed && !/^(Save|Record|Add)\b/.test(pressed)) { parts.unshift(pressed); }
    var text = parts.join(" · ");
    return text.length > 200 ? text.slice(0, 199) + "…" : text;
  }

  var words = {};
  try { words = JSON.parse((chart && chart.getAttribute("data-outbox-words")) || "{}"); } catch (e) { words = {}; }
  function entryLabel(form) {
    var base = "/visits/" + chart.getAttribute("data-outbox-visit") + "/";
    var address = form.getAttribute("hx-post") || "";
    var named = words[address.indexOf(base) === 0 ? address.slice(base.length) : address];
    if (named) { return named; }
    var section = form.closest('section[id^="section-"]');
    var heading = section && section.querySelector("h2, h3");
    return heading ? heading.textContent.replace(/\s+/g, " ").trim() : "Chart entry";
  }

  function fieldsOf(form, submitter) {
    var data = new FormData(form, submitter || undefined);
    var fields = [];
    data.forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") { fields.push([name, value]); }
    });
    return fields;
  }

  // ---- sending ------------------------------------------------------------------------------------------------
  function parse(html) { return new DOMParser().parseFromString(html, "text/html"); }

  function refusal(html, status) {
    var page = parse(html || "");
    var texts = [];
    page.querySelectorAll('[role="alert"], .invalid-feedback').forEach(function (node) {
      var text = node.textContent.replace(/\s+/g, " ").trim();
      if (text && texts.indexOf(text) < 0) { texts.push(text); }
    });
    return texts.join(" ") || "The server refused it (" + status + ").";
  }

  function typedIn(target) {
    // True when the nurse has typed into a form of this section since it was drawn: never swapped over.
    return Array.prototype.some.call(target.querySelectorAll("input, textarea, select"), function (field) {
      if (field.type === "hidden" || field.type === "submit") { return false; }
      if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return field.value !== field.defaultValue;
    });
  }

  function swapIn(entry, html, force) {
    var target = document.querySelector(entry.target);
    if (!target || !window.htmx) { return null; }
    if (!force && !justSubmitted[entry.id] && typedIn(target)) { return null; }
    htmx.swap(target, html, { swapStyle: "outerHTML" });
    return document.querySelector(entry.target);
  }

  function triggers(response) {
    var header = response.headers.get("HX-Trigger");
    if (!header) { return; }
    var names;
    try { names = Object.keys(JSON.parse(header)); } catch (e) { names = header.split(",").map(function (n) { return n.trim(); }); }
    names.forEach(function (name) { if (name) { htmx.trigger(body, name); } });
  }

  function signedOut(response, text) {
    if (response.status === 401 && response.headers.get("X-Signed-Out")) { return true; }
    if (response.redirected && /\/accounts\/login\//.test(response.url)) { return true; }
    return response.status === 403 && /CSRF/i.test(text);
  }

  // Entries recorded one after another on the same screen carry the section's version as the screen showed it. When
  // an earlier entry of hers is saved, the server moves that version on (1 → 2); a later entry recorded on 1 was
  // recorded on top of hers, so it goes on 2. A version moved by anyone else is a conflict, shown to her.
  var moved = {}; // section id → {version it was: version her saved entry made it}
  function versionIn(root) {
    var input = root && root.querySelector('input[name="version"]');
    return input ? input.value : null;
  }
  function noteVersions(html) {
    parse(html).querySelectorAll('section[id^="section-"]').forEach(function (section) {
      var to = versionIn(section);
      var from = versionIn(document.getElementById(section.id));
      if (to !== null && from !== null && to !== from) { (moved[section.id] = moved[section.id] || {})[from] = to; }
    });
  }
  function onHerVersion(entry) {
    var chain = moved[entry.target.slice(1)];
    if (!chain) { return; }
    entry.fields = entry.fields.map(function (pair) {
      if (pair[0] !== "version") { return pair; }
      var version = pair[1];
      for (var hops = 0; chain[version] !== undefined && hops < 50; hops++) { version = chain[version]; }
      return ["version", version];
    });
  }

  function send(entry) {
    onHerVersion(entry);
    var form = new URLSearchParams();
    entry.fields.forEach(function (pair) { form.append(pair[0], pair[1]); });
    entry.state = "sending";
    render();
    return fetch(entry.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "HX-Request": "true",
        "HX-Target": entry.target.slice(1),
        "HX-Current-URL": window.location.href,
        "X-CSRFToken": token(),
        "X-Client-Write-Id": entry.id,
        "X-Client-Recorded-At": entry.recordedAt,
        "X-Client-Kept": entry.kept ? "1" : "0",
      },
      body: form,
    }).then(function (response) {
      return response.text().then(function (text) { return answer(entry, response, text); });
    }, function () {
      entry.state = "waiting";
      entry.queued = true;
      entry.kept = true;
      kept(entry);
      setOffline(true);
      return keep(entry).then(function () { return "offline"; });
    });
  }

  function answer(entry, response, text) {
    setOffline(false);
    if (signedOut(response, text)) {
      entry.state = "waiting"; // her form stays as she typed it, and gets the answer once she has signed in again
      entry.kept = true;
      return keep(entry).then(function () {
        if (window.infusionSession) { window.infusionSession.ask(); }
        return "signed-out";
      });
    }
    if (response.ok) {
      noteVersions(text);
      var shown = swapIn(entry, text, false);
      triggers(response);
      delete justSubmitted[entry.id];
      say(entry.label + " " + clock(entry.recordedAt) + ": saved.");
      return drop(entry.id).then(function () { keepPagesSoon(); return shown ? "saved" : "saved-unshown"; });
    }
    if ((response.status === 400 || response.status === 409) && justSubmitted[entry.id] && !entry.queued) {
      // Refused while she watches: the section comes back with the messages at her fields, as without an outbox.
      delete justSubmitted[entry.id];
      var section = swapIn(entry, text, true);
      if (section) { section.dispatchEvent(new CustomEvent("chart:refused", { bubbles: true })); }
      return drop(entry.id).then(function () { return "refused"; });
    }
    if (response.status >= 500 && (entry.attempts || 0) < 3) {
      entry.state = "waiting";
      entry.queued = true;
      entry.attempts = (entry.attempts || 0) + 1;
      entry.message = "The server could not save it just now (error " + response.status + "); it is tried again.";
      return keep(entry).then(function () { return "later"; });
    }
    delete justSubmitted[entry.id];
    entry.state = "needs";
    entry.status = response.status;
    entry.message = refusal(text, response.status);
    return keep(entry).then(function () { return "needs"; });
  }

  function flush() {
    if (flushing || !user) { return Promise.resolve(); }
    flushing = true;
    return allEntries().then(function (entries) {
      var mine = entries.filter(function (entry) { return entry.user === user; });
      var next = function (index) {
        if (index >= mine.length) { return null; }
        if (mine[index].state === "needs") { return null; } // later entries wait behind it, in order
        return send(mine[index]).then(function (result) {
          return result === "saved" || result === "saved-unshown" || result === "refused" ? next(index + 1) : null;
        });
      };
      return next(0);
    }).catch(function () { return null; }).then(function () {
      flushing = false;
      render();
    });
  }

  // ---- recording ------------------------------------------------------------------------------------------------
  function kept(entry) {
    // Not sent now: the entry shows as waiting in its section, and its form is emptied for the next one.
    var form = justSubmitted[entry.id];
    delete justSubmitted[entry.id];
    if (form && form.isConnected) { form.reset(); }
    say(entry.label + " " + clock(entry.recordedAt) + ": kept on this tablet, waiting to send.");
  }

  function record(form, submitter) {
    var fields = fieldsOf(form, submitter);
    var key = JSON.stringify(fields);
    var previous = lastFields.get(form);
    if (previous && previous.key === key && justSubmitted[previous.id]) { return; } // a double tap
    var entry = {
      id: newId(),
      seq: Date.now() * 1000 + Math.floor(Math.random() * 1000),
      user: user,
      visit: chart.getAttribute("data-outbox-visit"),
      url: form.getAttribute("hx-post"),
      target: form.getAttribute("hx-target") || "#" + (form.closest('section[id^="section-"]') || {}).id,
      label: entryLabel(form),
      summary: summary(form, submitter),
      fields: fields,
      recordedAt: localIso(new Date()),
      state: "waiting",
      queued: offline,
      kept: offline,
    };
    lastFields.set(form, { key: key, id: entry.id });
    justSubmitted[entry.id] = form;
    keep(entry).then(function () {
      if (offline) { kept(entry); }
      render();
      flush();
    }, function () {
      delete justSubmitted[entry.id];
      window.alert("This tablet could not keep the entry (its storage is full or blocked). Nothing was saved; "
        + "write it down and try again.");
    });
  }

  function intercept(event) {
    var form = event.target;
    if (!chart || !form || form.tagName !== "FORM" || !chart.contains(form)) { return; }
    if (!form.hasAttribute("hx-post") || form.hasAttribute("data-online-only")) { return; }
    if (form.hasAttribute("data-geolocate") && !form.dataset.located) { return; } // its own handler comes first
    event.preventDefault();
    event.stopImmediatePropagation();
    var question = form.getAttribute("hx-confirm");
    if (question && !window.confirm(question)) { return; }
    record(form, event.submitter);
  }

  // ---- the nurse's choices for an entry that needs her ------------------------------------------------------------
  function sectionKey(entry) { return entry.target.replace("#section-", ""); }

  function currentSection(entry) {
    var url = new URL(window.location.href);
    url.search = "?section=" + encodeURIComponent(sectionKey(entry));
    url.hash = "";
    return fetch(url.href, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (response) {
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.text();
    });
  }

  function formFor(root, entry) {
    return Array.prototype.find.call(root.querySelectorAll("form[hx-post]"), function (form) {
      return form.getAttribute("hx-post") === entry.url;
    });
  }

  function sendAgain(entry) {
    return currentSection(entry).then(function (html) {
      var form = formFor(parse(html), entry);
      var version = form && form.querySelector('input[name="version"]');
      if (version) {
        entry.fields = entry.fields.map(function (pair) { return pair[0] === "version" ? ["version", version.value] : pair; });
      }
      swapIn(entry, html, false);
      entry.state = "waiting";
      entry.message = "";
      return keep(entry);
    }).then(flush, function () { say("No connection: try again when the tablet is back online."); });
  }

  function edit(entry) {
    return currentSection(entry).then(function (html) {
      var section = swapIn(entry, html, true);
      var form = section && formFor(section, entry);
      if (!form) {
        say("This entry can no longer be made in its section as it is now; discard it with a reason.");
        return null;
      }
      entry.fields.forEach(function (pair) {
        if (pair[0] === "version") { return; }
        Array.prototype.forEach.call(form.querySelectorAll('[name="' + CSS.escape(pair[0]) + '"]'), function (field) {
          if (field.type === "checkbox" || field.type === "radio") { field.checked = field.value === pair[1]; }
          else if (field.type !== "hidden" && field.type !== "submit") { field.value = pair[1]; }
        });
      });
      var details = form.closest("details");
      if (details) { details.open = true; }
      return drop(entry.id).then(function () {
        var first = form.querySelector("input:not([type=hidden]), select, textarea");
        form.scrollIntoView({ block: "start" });
        if (first) { first.focus({ preventScroll: true }); }
        render();
      });
    }, function () { say("No connection: try again when the tablet is back online."); });
  }

  function discard(entry, reason, error) {
    var url = chart.getAttribute("data-outbox-discard");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": token(), "HX-Request": "true" },
      body: new URLSearchParams({
        client_id: entry.id, action_url: entry.url, summary: (entry.label + ": " + entry.summary).slice(0, 300),
        client_at: entry.recordedAt, reason: reason,
      }),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { error.textContent = data.error || "Not discarded."; return null; }
        say(entry.label + " " + clock(entry.recordedAt) + ": discarded.");
        return drop(entry.id).then(flush);
      });
    }, function () { error.textContent = "Discarding needs a connection, so that it is recorded. Try again online."; });
  }

  // ---- what the nurse sees ----------------------------------------------------------------------------------------
  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  var live = null;
  function say(text) {
    if (!live) {
      live = element("div", { class: "visually-hidden", "aria-live": "polite", id: "outbox-live" });
      body.appendChild(live);
    }
    live.textContent = text;
  }

  function entryItem(entry) {
    var needs = entry.state === "needs";
    var item = element("li", {
      class: "list-group-item " + (needs ? "list-group-item-danger" : "list-group-item-warning"),
      "data-outbox-entry": entry.id, "data-outbox-state": entry.state,
    });
    var head = element("div", { class: "d-flex flex-wrap justify-content-between gap-2" });
    head.appendChild(element("span", { class: "fw-semibold" }, entry.label + " · recorded " + clock(entry.recordedAt)));
    head.appendChild(element("span", { class: "badge " + (needs ? "text-bg-danger" : "text-bg-warning") },
      needs ? "Needs you" : entry.state === "sending" ? "Sending…" : "Waiting to send"));
    item.appendChild(head);
    if (entry.summary) { item.appendChild(element("div", { class: "small" }, entry.summary)); }
    if (entry.message) { item.appendChild(element("div", { class: "small fw-semibold mt-1", "data-outbox-message": "" }, entry.message)); }
    if (needs) {
      var actions = element("div", { class: "d-flex flex-wrap gap-2 mt-2 align-items-start" });
      var again = element("button", { type: "button", class: "btn btn-primary" }, "Send again on the current chart");
      again.addEventListener("click", function () { sendAgain(entry); });
      var change = element("button", { type: "button", class: "btn btn-outline-primary" }, "Edit it");
      change.addEventListener("click", function () { edit(entry); });
      var drop = element("details", { class: "outbox-discard" });
      drop.appendChild(element("summary", { class: "btn btn-outline-danger" }, "Discard…"));
      var form = element("form", { class: "mt-2", novalidate: "" });
      var fieldId = "discard-" + entry.id;
      form.appendChild(element("label", { for: fieldId, class: "form-label small" }, "Why is it discarded? (recorded)"));
      form.appendChild(element("input", { id: fieldId, type: "text", maxlength: "300", class: "form-control mb-1", required: "" }));
      var error = element("div", { class: "text-danger small fw-semibold", role: "alert" });
      form.appendChild(error);
      form.appendChild(element("button", { type: "submit", class: "btn btn-danger btn-sm" }, "Discard this entry"));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var reason = form.querySelector("input").value.trim();
        if (!reason) { error.textContent = "Give the reason for discarding it."; return; }
        discard(entry, reason, error);
      });
      drop.appendChild(form);
      [again, change, drop].forEach(function (node) { actions.appendChild(node); });
      item.appendChild(actions);
    }
    return item;
  }

  function markVitalsDue(entries) {
    // A vital-sign set waiting to send fills the earliest open due set, so the due list stays true offline.
    var waitingSets = entries.filter(function (entry) { return /\/vitals\/$/.test(entry.url); }).length;
    var open = document.querySelectorAll('#vitals-due li[data-status]:not([data-status="done"])');
    Array.prototype.forEach.call(open, function (row, index) {
      var badge = row.querySelector(".badge:last-child");
      if (!badge) { return; }
      if (!badge.hasAttribute("data-server-words")) { badge.setAttribute("data-server-words", badge.textContent); }
      badge.textContent = index < waitingSets ? "Recorded · waiting to send" : badge.getAttribute("data-server-words");
    });
  }

  function render() {
    if (!user) { return; }
    allEntries().then(function (entries) {
      var mine = entries.filter(function (entry) { return entry.user === user; });
      var others = entries.length - mine.length;
      mineWaiting = mine.length;
      if (chart) {
        document.querySelectorAll("[data-outbox-list]").forEach(function (list) { list.remove(); });
        var here = mine.filter(function (entry) { return entry.visit === chart.getAttribute("data-outbox-visit"); });
        var bySection = {};
        here.forEach(function (entry) { (bySection[entry.target] = bySection[entry.target] || []).push(entry); });
        Object.keys(bySection).forEach(function (target) {
          var section = document.querySelector(target);
          if (!section) { return; }
          var list = element("ul", { class: "list-group mb-3", "data-outbox-list": "", "aria-label": "Entries kept on this tablet" });
          bySection[target].forEach(function (entry) { list.appendChild(entryItem(entry)); });
          // At the top of the section, under its heading, where she looks first.
          var anchor = section.querySelector("h2");
          while (anchor && anchor.parentElement && anchor.parentElement.parentElement !== section) {
            anchor = anchor.parentElement;
          }
          if (anchor && anchor.parentElement && anchor.parentElement.parentElement === section) { anchor.after(list); }
          else { section.prepend(list); }
        });
        markVitalsDue(here);
      }
      showBanner(mine, others);
    });
  }

  function showBanner(mine, others) {
    if (!banner) { return; }
    var needs = mine.filter(function (entry) { return entry.state === "needs"; }).length;
    var waiting = mine.length - needs;
    var parts = [];
    if (offline) {
      parts.push(waiting ? "Offline — saved on this tablet, " + waiting + " waiting to send."
        : "Offline — what you record is kept on this tablet and sent when the connection is back.");
    }
    else if (waiting) { parts.push(waiting + " waiting to send."); }
    if (needs) { parts.push(needs + (needs === 1 ? " entry needs" : " entries need") + " you: see " + (chart ? "below." : "its chart.")); }
    if (others) { parts.push(others + " kept for another user, sent when they sign in."); }
    if (offline && !chart && !document.querySelector("[data-offline-ready]")) { parts.push("This page needs a connection."); }
    banner.querySelector("[data-offline-text]").textContent = parts.join(" ");
    var sendNow = banner.querySelector("[data-outbox-send]");
    if (sendNow) { sendNow.hidden = waiting === 0; }
    banner.hidden = parts.length === 0;
    banner.className = "alert mb-0 rounded-0 py-2 " + (needs ? "alert-danger" : offline ? "alert-warning" : "alert-info");
  }

  function setOffline(value) {
    if (offline === value) { return; }
    offline = value;
    body.toggleAttribute("data-offline", value);
    render();
  }

  // ---- the connection ---------------------------------------------------------------------------------------------
  function probe() {
    return fetch(PROBE_URL, { cache: "no-store", credentials: "same-origin" }).then(function () {
      setOffline(false);
      return !offline;
    }, function () { setOffline(true); return false; });
  }

  function retry() {
    probe().then(function (up) { if (up) { flush(); } });
  }

  // ---- kept pages (the service worker) ---------------------------------------------------------------------------------
  function worker() {
    return navigator.serviceWorker && navigator.serviceWorker.controller;
  }

  function tellWorker(message) {
    return new Promise(function (resolve) {
      var active = worker();
      if (!active) { resolve(null); return; }
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) { resolve(event.data); };
      active.postMessage(message, [channel.port2]);
    });
  }

  var keepTimer = null;
  function keepPagesSoon() {
    // After a save the kept copy of this chart is out of date: fetch it again shortly (debounced).
    if (!chart) { return; }
    window.clearTimeout(keepTimer);
    keepTimer = window.setTimeout(function () {
      if (!offline) { fetch(window.location.pathname, { credentials: "same-origin" }).then(readyOffline, function () {}); }
    }, 3000);
  }

  function readyOffline() {
    var slot = document.querySelector("[data-offline-ready]");
    if (!slot || !window.caches) { return; }
    caches.open(PAGES).then(function (cache) { return cache.match(window.location.pathname, { ignoreVary: true }); })
      .then(function (kept) {
        var at = kept && Number(kept.headers.get("X-Kept-At"));
        slot.textContent = at ? "Ready offline · kept at " + clock(new Date(at).toISOString())
          : "Not ready offline yet: open My day online to keep today's and tomorrow's charts on this tablet.";
        slot.setAttribute("data-kept", at ? "1" : "0");
      });
  }

  // Whether this page (My day) asked the worker to keep her pages: "Ready offline" is then said only once the worker
  // has kept every one of them, never from My day's own copy while her charts are still being fetched.
  function keepMyDay() {
    var list = document.querySelector("[data-offline-keep]");
    if (!list) { return false; }
    var urls;
    try { urls = JSON.parse(list.getAttribute("data-offline-keep")); } catch (e) { return false; }
    tellWorker({ type: "keep", user: user, urls: urls }).then(function () { readyOffline(); });
    return true;
  }

  function register() {
    var script = body.getAttribute("data-offline-worker");
    if (!script || !navigator.serviceWorker) { return; }
    navigator.serviceWorker.register(script, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      if (!worker()) {
        // The first visit: the worker takes this page over when it activates.
        navigator.serviceWorker.addEventListener("controllerchange", function () { start(); }, { once: true });
        return;
      }
      start();
    });
  }

  function start() {
    tellWorker({ type: "user", user: user }).then(function () {
      if (!keepMyDay()) { readyOffline(); }
    });
  }

  // ---- the nurse's note: signing needs a connection, so her draft is kept on the tablet until the chart is signed -----
  var DRAFT_MAX_AGE_MS = 24 * 3600 * 1000; // as the kept pages (OFFLINE_PAGES_MAX_AGE_HOURS)
  function keepNoteDraft() {
    if (!chart || !window.localStorage) { return; }
    var key = "note-draft:" + user + ":" + chart.getAttribute("data-outbox-visit");
    if (document.querySelector("#section-signoff #signature")) { localStorage.removeItem(key); return; }
    var note = document.querySelector('#section-signoff textarea[name="note"]');
    if (!note || note.hasAttribute("data-draft-kept")) { return; }
    note.setAttribute("data-draft-kept", "");
    var draft = null;
    try { draft = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { draft = null; }
    if (draft && !(Date.now() - draft.at < DRAFT_MAX_AGE_MS)) { localStorage.removeItem(key); draft = null; }
    draft = draft && draft.text;
    if (draft && !note.value) {
      note.value = draft;
      note.insertAdjacentElement("afterend", element("div", { class: "form-text", "data-note-draft": "" },
        "Your draft, kept on this tablet: it is saved with the chart when you sign."));
    }
    note.addEventListener("input", function () {
      if (note.value.trim()) { localStorage.setItem(key, JSON.stringify({ text: note.value, at: Date.now() })); }
      else { localStorage.removeItem(key); }
    });
  }

  // ---- sign-out: warn about waiting entries, delete kept pages ------------------------------------------------------
  var mineWaiting = 0; // counted at each render, so signing out can ask at once (a confirm cannot wait for storage)
  function signOut(event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM" || !form.hasAttribute("data-sign-out")) { return; }
    if (mineWaiting && !window.confirm(mineWaiting + (mineWaiting === 1 ? " entry is" : " entries are")
      + " still waiting to send. They stay on this tablet for you, and are sent when you sign in again. Sign out anyway?")) {
      event.preventDefault();
      return;
    }
    if (window.caches) { caches["delete"](PAGES); } // and again on the sign-in page it lands on
  }

  function forgetSignedOut() {
    // The sign-in page: nobody is signed in on this tablet, so no page kept for anyone stays.
    if (window.caches && /^\/accounts\/login\//.test(window.location.pathname)) { caches["delete"](PAGES); }
  }

  if (!user) { forgetSignedOut(); return; }
  document.addEventListener("submit", intercept, true);
  document.addEventListener("submit", signOut, false);
  window.addEventListener("online", retry);
  var sendButton = banner && banner.querySelector("[data-outbox-send]");
  if (sendButton) { sendButton.addEventListener("click", retry); }
  window.addEventListener("offline", function () { setOffline(true); });
  window.setInterval(function () {
    allEntries().then(function (entries) {
      if (offline || entries.some(function (entry) { return entry.user === user && entry.state !== "needs"; })) { retry(); }
    });
  }, RETRY_MS);
  body.addEventListener("htmx:afterSettle", function () { render(); keepNoteDraft(); });
  body.addEventListener("htmx:sendError", function (event) {
    setOffline(true);
    var form = event.detail && event.detail.elt;
    var slot = form && form.querySelector && form.querySelector("[data-online-only-message]");
    if (slot) { slot.textContent = "This needs a connection: nothing was sent. What you typed stays here; try again online."; }
  });
  if (window.infusionSession) { window.infusionSession.onResume(flush); }
  window.infusionOutbox = { flush: flush, entries: allEntries };
  register();
  render();
  keepNoteDraft();
  retry();
})();
