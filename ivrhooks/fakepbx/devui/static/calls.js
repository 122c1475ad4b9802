// The live call list: every hop the embedded PBX places, grouped by call (session id), newest
// call first. It survives the app's reloads: a marker shows where a new start of the app began.

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
    item.append(head, hops);
    return item;
  }

  return {
    add(hop, eventId) {
      if (eventId) {
        if (seen.has(eventId)) return;
        seen.add(eventId);
      }
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
