// Edvent's trace viewer: the local Jaeger's query API (same origin), in two screens.
// Jaeger answers every path outside api/ and static/ with index.html, so the screens get
// real URLs (search?service=…, trace/<id>: the same as jaeger-ui's), which survive a
// reload and can be pasted into either UI.
"use strict";

const LOOKBACKS = { "15m": ["the last 15 minutes", 15 * 60], "1h": ["the last hour", 3600],
  "6h": ["the last 6 hours", 6 * 3600], "24h": ["the last 24 hours", 24 * 3600] };
const LIMITS = ["20", "50", "100"];
// Bar colours for up to eight services of one trace; the service's name is always
// written next to its bar, so colour is never the only cue.
const PALETTE = ["#1f6feb", "#b35900", "#1a7f37", "#a0307e", "#6639ba", "#0e7490", "#9a6700", "#cf222e"];

const status = document.getElementById("status");
const screen = document.getElementById("screen");
let rendering = 0; // a slow answer for a screen the user already left must not draw over the new one

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

async function api(path) {
  const answer = await fetch(new URL(path, document.baseURI), { headers: { Accept: "application/json" } });
  if (answer.status === 404) return null;
  const body = await answer.json().catch(() => null);
  if (!answer.ok) throw new Error(body?.errors?.[0]?.msg || `${answer.status} ${answer.statusText}`);
  return body;
}

function formatDuration(us) {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

function timeElement(us) {
  const date = new Date(us / 1000);
  const text = date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit",
    minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, hour12: false });
  return h("time", { datetime: date.toISOString() }, text);
}

// Jaeger's JSON, made into a tree. A parent is the CHILD_OF reference, else the first
// reference in this trace: Jaeger shows a parent that is also a link once, as
// FOLLOWS_FROM. A span whose parent is not in the trace (the client's, say) is a root.
function model(trace) {
  const byId = new Map(trace.spans.map((span) => [span.spanID, span]));
  const serviceOf = (span) => trace.processes[span.processID]?.serviceName ?? "unknown";
  const parentOf = (span) => {
    const inTrace = (span.references || []).filter((ref) => byId.has(ref.spanID));
    return byId.get((inTrace.find((ref) => ref.refType === "CHILD_OF") || inTrace[0])?.spanID) ?? null;
  };
  const children = new Map();
  const roots = [];
  for (const span of trace.spans) {
    const parent = parentOf(span);
    if (parent) children.set(parent.spanID, [...(children.get(parent.spanID) || []), span]);
    else roots.push(span);
  }
  const byStart = (a, b) => a.startTime - b.startTime;
  const ordered = [];
  const walk = (span, depth) => {
    ordered.push({ span, depth });
    for (const child of (children.get(span.spanID) || []).sort(byStart)) walk(child, depth + 1);
  };
  roots.sort(byStart).forEach((root) => walk(root, 0));
  const start = Math.min(...trace.spans.map((span) => span.startTime));
  const end = Math.max(...trace.spans.map((span) => span.startTime + span.duration));
  const counts = new Map(); // in waterfall order, so the root's service comes first
  for (const { span } of ordered) counts.set(serviceOf(span), (counts.get(serviceOf(span)) || 0) + 1);
  const root = roots[0];
  const name = root ? `${serviceOf(root)}: ${root.operationName}` : "(no spans)";
  return { id: trace.traceID, name, root, start, duration: end - start, ordered, byId, counts, serviceOf, parentOf };
}

function tagValue(span, key) {
  return (span.tags || []).find((tag) => tag.key === key)?.value;
}

function isError(span) {
  return tagValue(span, "error") === true || tagValue(span, "otel.status_code") === "ERROR";
}

function servicesText(counts) {
  return [...counts].map(([service, spans]) => `${service} (${spans})`).join(", ");
}

// -- screens -------------------------------------------------------------------------

function show(title, ...content) {
  document.title = `${title} · Edvent traces`;
  screen.replaceChildren(h("h1", { tabindex: "-1" }, title), ...content);
}

async function searchScreen(params, ticket) {
  const lookback = LOOKBACKS[params.get("lookback")] ? params.get("lookback") : "1h";
  const limit = LIMITS.includes(params.get("limit")) ? params.get("limit") : LIMITS[0];
  status.textContent = "Loading services…";
  const services = ((await api("api/services"))?.data || []).sort();
  if (ticket !== rendering) return;
  const service = services.includes(params.get("service")) ? params.get("service") : null;
  const choice = (id, text, options, selected) => [
    h("label", { for: id }, text),
    h("select", { id, name: id }, options.map(([value, label]) =>
      h("option", { value, selected: value === selected }, label))),
  ];
  const form = h("form", { class: "search-form", action: "search", onsubmit: (event) => {
    event.preventDefault();
    go(`search?${new URLSearchParams(new FormData(form))}`);
  } },
  h("div", {}, choice("service", "Service", services.map((name) => [name, name]), service)),
  h("div", {}, choice("lookback", "Started in", Object.entries(LOOKBACKS).map(([key, [label]]) => [key, label]), lookback)),
  h("div", {}, choice("limit", "At most", LIMITS.map((n) => [n, `${n} traces`]), limit)),
  h("button", { type: "submit", disabled: services.length === 0 }, "Find traces"));
  if (services.length === 0) {
    status.textContent = "";
    show("Traces", form, h("p", {}, "No service has sent a span to this Jaeger yet."));
    return;
  }
  if (!service) {
    status.textContent = "";
    show("Traces", form, h("p", {}, "Choose a service to list its recent traces."));
    return;
  }
  status.textContent = `Loading traces of ${service}…`;
  const start = (Date.now() - LOOKBACKS[lookback][1] * 1000) * 1000;
  const found = await api(`api/traces?${new URLSearchParams({ service, limit, start })}`);
  if (ticket !== rendering) return;
  const traces = (found?.data || []).map(model).sort((a, b) => b.start - a.start);
  const heading = `${traces.length} ${traces.length === 1 ? "trace" : "traces"} of ${service} in ${LOOKBACKS[lookback][0]}`;
  status.textContent = "";
  show(`Traces of ${service}`, form, h("section", { "aria-labelledby": "results" },
    h("h2", { id: "results" }, heading),
    traces.length === 0 ? h("p", {}, "Nothing yet: traces show here a few seconds after their spans end.") :
      h("table", { class: "traces", "aria-labelledby": "results" },
        h("thead", {}, h("tr", {}, ["Trace", "Started", "Duration", "Spans", "Services", "Trace ID"].map(
          (column) => h("th", { scope: "col" }, column)))),
        h("tbody", {}, traces.map((trace) => h("tr", {},
          h("th", { scope: "row" }, h("a", { href: `trace/${trace.id}`, "data-route": true }, trace.name)),
          h("td", {}, timeElement(trace.start)),
          h("td", { class: "number" }, formatDuration(trace.duration)),
          h("td", { class: "number" }, String(trace.ordered.length)),
          h("td", {}, servicesText(trace.counts)),
          h("td", {}, h("code", {}, trace.id))))))));
}

async function traceScreen(id, ticket) {
  status.textContent = `Loading trace ${id}…`;
  const found = (await api(`api/traces/${encodeURIComponent(id)}`))?.data?.[0];
  if (ticket !== rendering) return;
  status.textContent = "";
  if (!found) {
    show("Trace not found", h("p", {}, "This Jaeger has no trace ", h("code", {}, id),
      ". It keeps traces in memory only, so a restart forgets them; a trace shows a few seconds after its spans end."),
    h("p", {}, h("a", { href: "search", "data-route": true }, "Find traces by service")));
    return;
  }
  const trace = model(found);
  const colours = new Map([...trace.counts.keys()].map((service, i) => [service, PALETTE[i % PALETTE.length]]));
  const back = trace.root ? trace.serviceOf(trace.root) : "";
  show(trace.name,
    h("p", {}, h("a", { href: `search?service=${encodeURIComponent(back)}`, "data-route": true }, `Traces of ${back}`)),
    h("dl", { class: "summary" },
      h("dt", {}, "Trace ID"), h("dd", {}, h("code", {}, trace.id)),
      h("dt", {}, "Started"), h("dd", {}, timeElement(trace.start)),
      h("dt", {}, "Duration"), h("dd", {}, formatDuration(trace.duration)),
      h("dt", {}, "Spans"), h("dd", {}, String(trace.ordered.length)),
      h("dt", {}, "Services"), h("dd", {}, servicesText(trace.counts))),
    h("section", { "aria-labelledby": "spans" },
      h("h2", { id: "spans" }, "Spans"),
      h("p", { class: "hint" }, "Indented under their parent, bars placed in time. Choose a span to see its attributes, events and links."),
      h("table", { class: "waterfall", "aria-labelledby": "spans" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Service and operation"),
          h("th", { scope: "col" }, `Timeline (0 to ${formatDuration(trace.duration)})`))),
        h("tbody", {}, trace.ordered.map(({ span, depth }) => spanRows(trace, span, depth, colours))))));
}

function spanRows(trace, span, depth, colours) {
  const service = trace.serviceOf(span);
  const scale = (us) => `${(100 * us) / Math.max(trace.duration, 1)}%`;
  const detailId = `detail-${span.spanID}`;
  const detail = h("tr", { id: detailId, class: "detail", hidden: true });
  const toggle = h("button", { type: "button", class: "span-toggle", "aria-expanded": "false",
    "aria-controls": detailId, onclick: () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      if (open && !detail.firstChild) detail.append(h("td", { colspan: 2 }, spanDetail(trace, span)));
      toggle.setAttribute("aria-expanded", String(open));
      detail.hidden = !open;
    } },
  h("span", { class: "service" }, service), " ", h("span", { class: "operation" }, span.operationName),
  isError(span) ? h("span", { class: "error-badge" }, " error") : null);
  const offset = span.startTime - trace.start;
  return [
    h("tr", { id: `span-${span.spanID}`, class: "span-row" },
      h("td", { class: "name", style: { paddingLeft: `${0.5 + depth * 1.25}rem` } }, toggle),
      h("td", { class: "timeline" },
        h("div", { class: "track", "aria-hidden": "true" }, h("span", { class: "bar",
          style: { left: scale(offset), width: scale(span.duration), background: colours.get(service) } })),
        h("span", { class: "timing" }, `at +${formatDuration(offset)}, took ${formatDuration(span.duration)}`))),
    detail,
  ];
}

function keyValues(label, entries) {
  if (entries.length === 0) return null;
  return h("table", { class: "tags", "aria-label": label }, h("tbody", {}, entries.map((tag) =>
    h("tr", {}, h("th", { scope: "row" }, tag.key), h("td", {}, formatValue(tag.value))))));
}

function formatValue(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

// Opens a span's row (its details too) and moves focus there, for links inside a trace.
function reveal(spanID) {
  const button = document.querySelector(`#span-${CSS.escape(spanID)} .span-toggle`);
  if (!button) return;
  if (button.getAttribute("aria-expanded") !== "true") button.click();
  button.focus();
}

function spanLink(trace, spanID, traceID) {
  const target = traceID === trace.id ? trace.byId.get(spanID) : null;
  if (target) return h("button", { type: "button", class: "link", onclick: () => reveal(spanID) },
    `${trace.serviceOf(target)}: ${target.operationName}`);
  return h("span", {}, "span ", h("code", {}, spanID), " of ",
    h("a", { href: `trace/${traceID}`, "data-route": true }, `trace ${traceID}`));
}

function spanDetail(trace, span) {
  const parent = trace.parentOf(span);
  const name = `${trace.serviceOf(span)}: ${span.operationName}`;
  const links = (span.references || []).filter((ref) => ref.refType === "FOLLOWS_FROM");
  const section = (title, ...content) => [h("h4", {}, title), ...content];
  const none = (text) => h("p", { class: "hint" }, text);
  return h("div", { class: "span-detail" },
    h("h3", {}, name),
    h("dl", { class: "summary" },
      h("dt", {}, "Span ID"), h("dd", {}, h("code", {}, span.spanID)),
      h("dt", {}, "Parent"), h("dd", {}, parent ? spanLink(trace, parent.spanID, trace.id) : "none in this trace"),
      h("dt", {}, "Starts"), h("dd", {}, `+${formatDuration(span.startTime - trace.start)}`),
      h("dt", {}, "Duration"), h("dd", {}, formatDuration(span.duration))),
    section("Attributes", keyValues(`Attributes of ${name}`, span.tags || []) || none("None.")),
    section("Events", (span.logs || []).length === 0 ? none("None.") :
      h("ol", { class: "events" }, span.logs.map((log) => {
        // OpenTelemetry's event name arrives as the field `event`.
        const at = `+${formatDuration(log.timestamp - trace.start)}`;
        const title = [at, (log.fields || []).find((field) => field.key === "event")?.value].filter(Boolean).join(" ");
        return h("li", {}, h("p", {}, title), keyValues(`Event ${title}`, log.fields || []));
      }))),
    section("Links", links.length === 0 ? none("None.") :
      h("ul", {}, links.map((ref) => h("li", {}, "follows from ", spanLink(trace, ref.spanID, ref.traceID))))),
    section("Process", keyValues(`Process of ${name}`, trace.processes?.[span.processID]?.tags || []) || none("None.")),
    (span.warnings || []).length ? section("Warnings", h("ul", {}, span.warnings.map((w) => h("li", {}, w)))) : null);
}

// -- routing -------------------------------------------------------------------------

async function route({ focus = false } = {}) {
  const ticket = ++rendering;
  const base = new URL(document.baseURI).pathname;
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : "";
  try {
    if (path.startsWith("trace/")) await traceScreen(decodeURIComponent(path.slice("trace/".length)), ticket);
    else await searchScreen(new URLSearchParams(location.search), ticket);
  } catch (error) {
    if (ticket !== rendering) return;
    status.textContent = "";
    show("The query API failed", h("p", {}, `Jaeger's answer: ${error.message}`),
      h("p", {}, "If Jaeger is not running, ", h("code", {}, "uv run edvent-stack status"), " says so."));
  }
  // After a navigation, start reading at the new screen's heading, as after a page load.
  if (focus && ticket === rendering) screen.querySelector("h1")?.focus();
}

function go(relative) {
  history.pushState(null, "", new URL(relative, document.baseURI));
  route({ focus: true });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-route]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  go(link.getAttribute("href"));
});

document.getElementById("open-trace").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("trace-id");
  go(`trace/${input.value.trim().toLowerCase()}`);
});

window.addEventListener("popstate", () => route({ focus: true }));
route();
