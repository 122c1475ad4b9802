// The call-flow map: /api/map drawn as SVG, laid out by hand (no library, no build step).
//
// One lane per receptionist, top to bottom. In a lane, one row per route: a card (the mask, its
// kind, the handler and its auth) and, to its right, a pill per decision it can make. A forward
// to another receptionist of the app is drawn as an edge: out of the pill into a gutter on the
// right, up or down to the target lane's title, so edges never cross a card or a pill.

const SVG = "http://www.w3.org/2000/svg";
const FONTS = {
  mask: 'bold 15px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
  mono: '13px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
  sans: '13px system-ui, "DejaVu Sans", "Segoe UI", sans-serif',
  head: 'bold 14px system-ui, "DejaVu Sans", "Segoe UI", sans-serif',
};
const PAD = 12;
const HEAD_H = 30;
const CARD_W = 300;
const CARD_H = 50;
const GAP = 64; // between a card and its pills, where the connectors run
const PILL_H = 26;
const PILL_GAP = 8;
const ROW_GAP = 12;
const LANE_GAP = 18;
const GUTTER = 22; // between the widest pill and the first forward edge
const EDGE_STEP = 14;
const FALLBACK_H = 46;

const context = document.createElement("canvas").getContext("2d");

function width(text, font) {
  context.font = font;
  return context.measureText(text).width;
}

/** ``text`` cut with an ellipsis to fit ``room`` pixels in ``font``. */
function fit(text, font, room) {
  if (width(text, font) <= room) return text;
  let cut = text;
  while (cut.length > 1 && width(`${cut}…`, font) > room) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function el(name, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  node.append(...children);
  return node;
}

function title(text) {
  return el("title", {}, text);
}

export function targetLabel(target) {
  switch (target.kind) {
    case "receptionist":
      return `→ receptionist ${target.number}`;
    case "number":
      return `call ${target.number}`;
    case "hangup":
      return "hang up";
    case "repeat":
      return "repeat the prompt";
    case "computed":
      return "call a number it computes";
    case "runtime":
      return "decides at run time";
    case "unknown":
      return "its source cannot be read";
    default:
      return "no decision in its code";
  }
}

function targetTitle(target) {
  const from = target.sources || [];
  if (from.includes("code") && from.includes("seen")) return "in the handler's code, and seen in a call";
  if (from.includes("seen")) return "seen in a call (not spelled out in the handler's code)";
  if (from.includes("code")) return "in the handler's code; not seen in a call yet";
  return "";
}

function auth(scheme) {
  return scheme === "none" ? "no auth" : `${scheme} auth`;
}

function describeRoute(route, targets) {
  const leads = targets.map(targetLabel).join(", ");
  return `${route.kind} ${route.mask}: handler ${route.handler}, ${auth(route.scheme)}; ${leads}. Enter: try it on the phone`;
}

function pills(route) {
  if (!route.known && !route.targets.length) return [{ kind: "unknown", sources: [] }];
  return route.targets.length ? route.targets : [{ kind: "none", sources: ["code"] }];
}

function pillClass(target) {
  const from = target.sources || [];
  const kind = target.kind === "receptionist" ? "receptionist" : target.kind;
  return `pill ${kind} ${from.includes("code") ? "code" : "seen"}${from.includes("seen") ? " taken" : ""}`;
}

/** Lay out and draw ``map``; ``onPick({to, route})`` runs when a route is chosen. */
export function drawMap(map, onPick) {
  const lanes = map.receptionists;
  const rows = [];
  const heads = new Map();
  let y = PAD;
  let pillRight = PAD + CARD_W + GAP;
  for (const lane of lanes) {
    heads.set(lane.number, { y, lane });
    y += HEAD_H + 10;
    for (const route of lane.routes) {
      const targets = pills(route).map((target) => ({
        target,
        label: targetLabel(target),
        w: width(targetLabel(target), FONTS.mono) + 22,
      }));
      const rowH = Math.max(CARD_H, targets.length * (PILL_H + PILL_GAP) - PILL_GAP);
      for (const pill of targets) pillRight = Math.max(pillRight, PAD + CARD_W + GAP + pill.w);
      rows.push({ lane, route, y, rowH, targets });
      y += rowH + ROW_GAP;
    }
    if (!lane.routes.length) y += 24;
    y += LANE_GAP;
  }
  const fallbackY = y;
  if (map.fallback) y += FALLBACK_H + PAD;
  const right = pillRight; // lane titles end here; forward edges arrive at this x
  const forwards = [];
  for (const row of rows) {
    row.targets.forEach((pill, index) => {
      if (pill.target.kind === "receptionist" && heads.has(pill.target.number)) {
        forwards.push({ row, pill, index });
      }
    });
  }
  const total = right + (forwards.length ? GUTTER + forwards.length * EDGE_STEP : 0) + PAD;
  const svg = el("svg", {
    width: total,
    height: y,
    viewBox: `0 0 ${total} ${y}`,
    role: "group",
    "aria-label": "Call-flow map",
    class: "flowmap",
  });
  svg.append(
    el("defs", {},
      el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }))),
  );

  for (const [number, head] of heads) {
    const count = head.lane.routes.length;
    const group = el("g", { class: "lane", "data-receptionist": number, role: "list", "aria-label": `Receptionist ${number}` });
    group.append(
      el("rect", { x: PAD, y: head.y, width: right - PAD, height: HEAD_H, rx: 6, class: "lane-head" }),
      el("text", { x: PAD + 12, y: head.y + 20, class: "lane-title" }, `Receptionist ${number}`),
      el("text", { x: right - 12, y: head.y + 20, class: "lane-count", "text-anchor": "end" },
        count ? `${count} route${count === 1 ? "" : "s"}` : "no routes"),
    );
    head.group = group;
    svg.append(group);
  }

  for (const row of rows) {
    const { route, lane } = row;
    const cardY = row.y + (row.rowH - CARD_H) / 2;
    const card = el("g", {
      class: `route ${route.kind.toLowerCase()}`,
      tabindex: 0,
      role: "listitem",
      "data-route": route.name,
      "data-receptionist": lane.number,
      "aria-label": describeRoute(route, row.targets.map((p) => p.target)),
    });
    const badge = route.kind;
    const badgeW = width(badge, FONTS.mono) + 12;
    card.append(
      title(`${route.handler}() — ${route.where || "source unknown"}\nserved at ${route.path}`),
      el("rect", { x: PAD, y: cardY, width: CARD_W, height: CARD_H, rx: 6, class: "card" }),
      el("text", { x: PAD + 12, y: cardY + 20, class: "mask" }, fit(route.mask, FONTS.mask, CARD_W - badgeW - 36)),
      el("rect", { x: PAD + CARD_W - badgeW - 10, y: cardY + 7, width: badgeW, height: 18, rx: 9, class: "badge" }),
      el("text", { x: PAD + CARD_W - badgeW / 2 - 10, y: cardY + 20, class: "badge-text", "text-anchor": "middle" }, badge),
      el("text", { x: PAD + 12, y: cardY + 40, class: "handler" },
        fit(`${route.handler}() · ${auth(route.scheme)}`, FONTS.sans, CARD_W - 24)),
    );
    const pick = () => onPick({ to: lane.number, route });
    card.addEventListener("click", pick);
    card.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        event.stopPropagation();
        pick();
      }
    });
    heads.get(lane.number).group.append(card);

    const fromX = PAD + CARD_W;
    const fromY = cardY + CARD_H / 2;
    row.targets.forEach((pill, index) => {
      const pillY = row.y + index * (PILL_H + PILL_GAP) + (row.rowH - (row.targets.length * (PILL_H + PILL_GAP) - PILL_GAP)) / 2;
      const toX = PAD + CARD_W + GAP;
      const toY = pillY + PILL_H / 2;
      pill.x = toX;
      pill.y = pillY;
      const mid = fromX + GAP / 2;
      svg.append(el("path", { d: `M${fromX},${fromY} C${mid},${fromY} ${mid},${toY} ${toX - 2},${toY}`, class: "connector", "marker-end": "url(#arrow)" }));
      const group = el("g", { class: pillClass(pill.target), "data-target": pill.target.number ?? pill.target.kind });
      group.append(
        title(targetTitle(pill.target)),
        el("rect", { x: toX, y: pillY, width: pill.w, height: PILL_H, rx: PILL_H / 2 }),
        el("text", { x: toX + 11, y: pillY + 17 }, pill.label),
      );
      svg.append(group);
    });
  }

  forwards.forEach(({ row, pill }, index) => {
    const head = heads.get(pill.target.number);
    const gutterX = right + GUTTER + index * EDGE_STEP;
    const fromX = pill.x + pill.w;
    const fromY = pill.y + PILL_H / 2;
    const toY = head.y + HEAD_H / 2;
    const path = el("path", {
      d: `M${fromX},${fromY} H${gutterX} V${toY} H${right + 2}`,
      class: "forward",
      "marker-end": "url(#arrow)",
      "data-edge": `${row.lane.number}:${row.route.name}->${pill.target.number}`,
    });
    path.append(title(`${row.route.handler}() forwards the call to receptionist ${pill.target.number}`));
    svg.append(path);
  });

  if (map.fallback) {
    const fb = map.fallback;
    const leads = fb.targets.length ? fb.targets.map(targetLabel).join(", ") : "no decision in its code";
    const room = right - PAD - 24;
    const group = el("g", { class: "fallback", "data-fallback": fb.handler });
    group.append(
      title(`${fb.handler}() — ${fb.where || "source unknown"}`),
      el("rect", { x: PAD, y: fallbackY, width: right - PAD, height: FALLBACK_H, rx: 6 }),
      el("text", { x: PAD + 12, y: fallbackY + 19, class: "fallback-title" },
        fit(`Fallback ${fb.handler}(): ${leads}`, FONTS.head, room)),
      el("text", { x: PAD + 12, y: fallbackY + 37, class: "fallback-when" },
        fit("answers when a handler raises, runs late or returns no decision", FONTS.sans, room)),
    );
    svg.append(group);
  }
  return svg;
}
