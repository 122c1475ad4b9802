// The live call list: every hop the embedded PBX places, grouped by call (session id), newest
// call first, with the CDR and extension events the PBX posted for the call under its hops.
// It survives the app's reloads: a marker shows where a new start of the app began.

import { hopItem } from "./hop.js";

const KEEP = 100; // calls shown; older ones drop off the bottom

export function setupCalls() {
  const list = document.getElementById("calls");
  const empty = document.getElementById("no-calls");
  const calls = new Map(); // session id -> its <li>
  const seen = new Set(); // event ids already shown (a replay after a reconnect repeats some)

  function trim() {
    while (list.children.length > KEEP) {
      const last = list.lastElementChild;
      if (last.dataset.session) calls.delete(last.dataset.session);
      last.remove();
    }
  }

  /** One event posted to an event URL: its type, the number it is about, the answer. */
  function eventItem(sent) {
    const item = document.createElement("li");
    const ok = sent.status === 200;
    item.className = `pbx-event ${ok ? "delivered" : "failed"}`;
    const answer = sent.status != null ? `HTTP ${sent.status}` : sent.error || "no answer";
    const parts = [sent.type || "?"];
    if (sent.target) parts.push(sent.target);
    parts.push(answer);
    if (sent.attempt > 1) parts.push(`attempt ${sent.attempt}`);
    if (sent.copy) parts.push("duplicate");
    item.textContent = parts.join(" · ");
    return item;
  }

  function callItem(hop) {
    const item = document.createElement("li");
    item.className = "call";
    item.dataset.session = hop.session_id || "";
    const head = document.createElement("p");
    head.className = "call-head";
    const time = document.createElement("time");
    const at = new Date((hop.at || Date.now() / 1000) * 1000);
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString();
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = `caller ${hop.caller || "?"} → ${hop.receptionist}`;
    const session = document.createElement("span");
    session.className = "session";
    session.textContent = `session ${hop.session_id || "?"}`;
    head.append(time, who, session);
    const hops = document.createElement("ol");
    hops.className = "hops";
    const events = document.createElement("ul");
    events.className = "pbx-events";
    item.append(head, hops, events);
    return item;
  }

  function seenBefore(eventId) {
    if (!eventId) return false;
    if (seen.has(eventId)) return true;
    seen.add(eventId);
    return false;
  }

  return {
    add(hop, eventId) {
      if (seenBefore(eventId)) return;
      empty.hidden = true;
      let item = calls.get(hop.session_id);
      if (!item) {
        item = callItem(hop);
        if (hop.session_id) calls.set(hop.session_id, item);
        list.prepend(item);
        trim();
      }
      item.querySelector("ol.hops").append(hopItem(hop));
    },
    /** An event the PBX posted: under its call's hops (an extension's own change: on its own). */
    addEvent(sent, eventId) {
      if (seenBefore(eventId)) return;
      empty.hidden = true;
      let item = sent.session_id ? calls.get(sent.session_id) : null;
      if (!item) {
        item = callItem({ session_id: sent.session_id, receptionist: "?", at: sent.at });
        if (sent.session_id) calls.set(sent.session_id, item);
        list.prepend(item);
        trim();
      }
      item.querySelector("ul.pbx-events").append(eventItem(sent));
    },
    /** A new start of the app: later calls are its calls. */
    restarted() {
      if (!list.children.length) return;
      const marker = document.createElement("li");
      marker.className = "marker";
      marker.textContent = `the app restarted · ${new Date().toLocaleTimeString()}`;
      list.prepend(marker);
      calls.clear(); // a session id of the old start is not continued by the new one
    },
  };
}
