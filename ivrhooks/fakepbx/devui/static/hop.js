// One hop of a call, as `ivrhooks call` describes it (cli/call.py describe_hop): the
// receptionist, the digits, the route, the decision or the fallback with its cause and the
// user's line, the HTTP status and the latency. Shared by the dev phone and the live list.

/** The route that answered: the app's own word, else the action URL's name (ivrhooks:<route>@<app>). */
export function routeOf(hop) {
  if (hop.outcome && hop.outcome.route) return hop.outcome.route;
  const name = (hop.action_url && hop.action_url.name) || "";
  const match = /^ivrhooks:([a-z0-9][a-z0-9_-]*)/.exec(name);
  return match ? match[1] : name || "?";
}

function decided(decision) {
  if (!decision || !decision.action) return "?";
  return decision.destination != null ? `${decision.action} ${decision.destination}` : decision.action;
}

function ms(seconds) {
  return `${(seconds * 1000).toFixed(1)} ms`;
}

/** The HTTP status and the latency, as the fake PBX measured them; a real PBX's hop (from the
 * app's journal) has neither. */
function measured(hop) {
  const shown = [];
  if (hop.status != null) shown.push(`HTTP ${hop.status}`);
  if (hop.latency != null) shown.push(ms(hop.latency));
  return shown;
}

function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.textContent = text;
  return node;
}

/** What a hop amounts to: decision, fallback, none (no action URL takes it) or error. */
export function outcomeOf(hop) {
  if (!hop.matched) return "none";
  if (hop.error) return "error";
  const by = hop.outcome && hop.outcome.answered_by;
  return by === "fallback" || by === "default" ? "fallback" : "decision";
}

export function hopItem(hop) {
  const item = document.createElement("li");
  const outcome = outcomeOf(hop);
  item.className = `hop ${outcome}`;
  item.dataset.outcome = outcome;
  const where = hop.input ? `receptionist ${hop.receptionist} · keys ${hop.input}` : `receptionist ${hop.receptionist} · calls in`;
  item.append(span("place", where));
  const verdict = document.createElement("strong");
  verdict.className = "verdict";
  const details = [];
  if (outcome === "none") {
    verdict.textContent = "no route matches";
    const what = hop.input ? `digits '${hop.input}'` : "the caller's number";
    details.push(`no action URL takes ${what}: the receptionist's own menu handles the call`);
  } else if (outcome === "error") {
    verdict.textContent = "no decision";
    details.push(`route ${routeOf(hop)}`, hop.error);
    if (hop.latency != null) details.push(`after ${ms(hop.latency)}`);
  } else if (outcome === "fallback") {
    const outcomeRecord = hop.outcome;
    verdict.textContent = `fallback: ${decided(hop.decision)}`;
    details.push(`route ${routeOf(hop)}`, `cause: ${outcomeRecord.cause || "?"}`);
    if (outcomeRecord.error) details.push(outcomeRecord.error);
    if (outcomeRecord.where) details.push(`at ${outcomeRecord.where}`);
    details.push(outcomeRecord.answered_by === "fallback" ? "answered by the fallback" : "answered by the built-in default");
    details.push(...measured(hop));
  } else {
    verdict.textContent = `decision: ${decided(hop.decision)}`;
    details.push(`handler ${routeOf(hop)}`, ...measured(hop));
  }
  item.append(verdict, span("details", details.join(" · ")));
  return item;
}
