// The dev page: wires the map, the phone and the live list to the app.
//
// One server-sent event stream (/api/events) carries every hop as it happens, and every event
// the PBX posts to the tenant's event URLs ("pbx-event"). It also tells
// when the app went away and came back: `ivrhooks dev` restarts the app after an edit, the
// stream breaks, the browser reconnects (the server asked for retry: 500 ms), and the `hello`
// event names the new start, so the map is loaded again, with the edited routes.
//
// Under `ivrhooks dev --pbx` a real PBX places the calls: the page is served with
// <body data-phone="off">, has no phone, and lists the calls the app answered.

import { setupCalls } from "./calls.js";
import { drawMap } from "./map.js";
import { setupPhone } from "./phone.js";

const status = document.getElementById("status");
const mapBox = document.getElementById("map");
const withPhone = document.body.dataset.phone !== "off";
const phone = withPhone ? setupPhone() : null;
const calls = setupCalls();
if (!withPhone) {
  document.getElementById("phone-panel").hidden = true;
  document.querySelector("#calls-title small").textContent = "every call the app answered, newest first";
  document.getElementById("no-calls").textContent = "No calls yet: dial a receptionist from a phone on the PBX.";
}
let shownMap = "";
let start = null;
let refresh = null;

function say(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

async function loadMap() {
  const response = await fetch("/api/map", { cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  if (text === shownMap) return; // unchanged: keep the drawing (and the focus in it)
  shownMap = text;
  const map = JSON.parse(text);
  const numbers = map.receptionists.map((lane) => lane.number);
  phone?.setReceptionists(numbers);
  if (!numbers.length) {
    const note = document.createElement("p");
    note.className = "empty";
    note.textContent = "The app has no receptionist.";
    mapBox.replaceChildren(note);
    return;
  }
  // A route card with the focus is focused again in the new drawing: a keyboard user
  // walking the map keeps their place when a call elsewhere redraws it.
  const focused = mapBox.contains(document.activeElement) ? document.activeElement.dataset : {};
  const place = focused.route
    ? `g.route[data-receptionist="${CSS.escape(focused.receptionist)}"][data-route="${CSS.escape(focused.route)}"]`
    : null;
  mapBox.replaceChildren(drawMap(map, (choice) => phone?.pick(choice)));
  mapBox.dataset.start = map.start;
  if (place) mapBox.querySelector(place)?.focus({ preventScroll: true });
}

/** After calls, the map may know new decisions (seen in calls): load it again, at most every 300 ms. */
function mapSoon() {
  clearTimeout(refresh);
  refresh = setTimeout(() => loadMap().catch(() => {}), 300);
}

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("hello", (event) => {
    const hello = JSON.parse(event.data);
    const reloaded = start !== null && hello.start !== start;
    if (reloaded) calls.restarted();
    start = hello.start;
    loadMap()
      .then(() => say("live", reloaded ? `the app reloaded at ${new Date().toLocaleTimeString()}` : "connected: live"))
      .catch((error) => say("down", `cannot load the map: ${error.message}`));
  });
  events.addEventListener("hop", (event) => {
    calls.add(JSON.parse(event.data), event.lastEventId);
    mapSoon();
  });
  events.addEventListener("pbx-event", (event) => {
    calls.addEvent(JSON.parse(event.data), event.lastEventId);
  });
  events.addEventListener("error", () => {
    say("down", "the app is not answering (reloading?) — reconnecting…");
    if (events.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error, not a dropped connection): try again ourselves.
      setTimeout(connect, 1000);
    }
  });
}

connect();
