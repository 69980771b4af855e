// The dashboard: lists of agents and sessions, an agent page, a session page, a start form.
// Every value from the API is put in the page as text (textContent), never as HTML.
"use strict";

const PAGE_SIZE = 20;
const app = document.getElementById("app");
let cleanup = [];  // sockets of the current page, closed when leaving it

// ----- helpers ------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "x-lanterna-dashboard": "1", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401) {
    location.href = "/";
    throw new Error("signed out");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || `HTTP ${response.status}`);
  return data;
}

function when(value) {
  return value ? new Date(value).toLocaleString() : "—";
}

function duration(start, end) {
  if (!start) return "—";
  const seconds = ((end ? new Date(end) : new Date()) - new Date(start)) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function badge(text, kind) {
  return el("span", { class: `badge ${kind || text}`, text });
}

function agentBadge(agent) {
  if (agent.status === "active") return badge("running");
  return badge(agent.state || (agent.success ? "completed" : "failed"), agent.success ? "completed" : "failed");
}

function describeAction(action) {
  if (!action) return "";
  const { type, ...rest } = action;
  const details = Object.entries(rest)
    .filter(([, v]) => v !== null && v !== "" && typeof v !== "object")
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return [type, ...details].join(" ");
}

function problem(message) {
  return el("p", { class: "error", role: "alert", text: message });
}

function pager(page, total, go) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return el("div", { class: "pager" },
    el("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1), text: "← Newer" }),
    el("span", { text: ` page ${page} of ${pages} (${total}) ` }),
    el("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1), text: "Older →" }));
}

// ----- the agents list and the start form ---------------------------------------------------

function startForm() {
  const message = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "card start", id: "start-agent" },
    el("h2", { text: "Start an agent" }),
    el("label", { for: "task", text: "Task" }),
    el("textarea", { id: "task", name: "task", required: true, rows: 2, maxlength: 4000,
      placeholder: "Go to the shop and find the contact email" }),
    el("div", { class: "row" },
      el("div", {}, el("label", { for: "url", text: "Start URL" }),
        el("input", { id: "url", name: "url", type: "url", placeholder: `${location.origin}/demo/` })),
      el("div", {}, el("label", { for: "model", text: "Model" }),
        el("input", { id: "model", name: "model", placeholder: "server default" })),
      el("div", {}, el("label", { for: "max_steps", text: "Max steps" }),
        el("input", { id: "max_steps", name: "max_steps", type: "number", min: 1, max: 200, value: 10 }))),
    message,
    el("button", { type: "submit", text: "Start" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const data = new FormData(form);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const session = await api("/sessions/start", { method: "POST", body: {} });
      const body = { task: data.get("task"), session_id: session.session_id, max_steps: Number(data.get("max_steps")) || 10 };
      if (data.get("url")) body.url = data.get("url");
      if (data.get("model")) body.reasoning_model = data.get("model");
      let agent;
      try {
        agent = await api("/agents/start", { method: "POST", body });
      } catch (error) {
        await api(`/sessions/${encodeURIComponent(session.session_id)}/stop`, { method: "DELETE" }).catch(() => {});
        throw error;
      }
      sessionStorage.setItem(`own-session:${agent.agent_id}`, session.session_id);
      location.hash = `#/agents/${encodeURIComponent(agent.agent_id)}`;
    } catch (error) {
      message.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

async function agentsPage(query) {
  const page = Number(query.get("page")) || 1;
  const onlyActive = query.get("active") === "1";
  const list = await api(`/agents/?page=${page}&page_size=${PAGE_SIZE}&only_active=${onlyActive}`);
  const go = (p, active = onlyActive) => { location.hash = `#/?page=${p}${active ? "&active=1" : ""}`; };
  const rows = list.items.map((agent) => el("tr", {},
    el("td", {}, el("a", { href: `#/agents/${encodeURIComponent(agent.agent_id)}`, class: "task", text: agent.task })),
    el("td", {}, agentBadge(agent)),
    el("td", { text: Math.max(0, agent.replay_stop_offset - agent.replay_start_offset) }),
    el("td", { text: duration(agent.created_at, agent.closed_at) }),
    el("td", { text: when(agent.created_at) })));
  app.replaceChildren(
    startForm(),
    el("section", { class: "card" },
      el("div", { class: "heading" }, el("h2", { text: "Agents" }),
        el("label", { class: "filter" },
          el("input", { type: "checkbox", checked: onlyActive, onchange: (e) => go(1, e.target.checked) }),
          " running only")),
      rows.length
        ? el("table", { id: "agents" },
          el("thead", {}, el("tr", {}, ...["Task", "State", "Steps", "Duration", "Started"].map((h) => el("th", { text: h })))),
          el("tbody", {}, ...rows))
        : el("p", { class: "empty", text: "No agents yet: start one above." }),
      pager(page, list.total, go)));
}

// ----- the sessions list ----------------------------------------------------------------------

async function sessionsPage(query) {
  const page = Number(query.get("page")) || 1;
  const onlyActive = query.get("active") === "1";
  const list = await api(`/sessions/?page=${page}&page_size=${PAGE_SIZE}&only_active=${onlyActive}`);
  const go = (p, active = onlyActive) => { location.hash = `#/sessions?page=${p}${active ? "&active=1" : ""}`; };
  const rows = list.items.map((s) => el("tr", {},
    el("td", {}, el("a", { href: `#/sessions/${encodeURIComponent(s.session_id)}`, class: "mono", text: s.session_id })),
    el("td", {}, badge(s.status)),
    el("td", { text: s.error || "" }),
    el("td", { text: duration(s.created_at, s.closed_at) }),
    el("td", { text: when(s.created_at) })));
  app.replaceChildren(el("section", { class: "card" },
    el("div", { class: "heading" }, el("h2", { text: "Sessions" }),
      el("label", { class: "filter" },
        el("input", { type: "checkbox", checked: onlyActive, onchange: (e) => go(1, e.target.checked) }),
        " active only")),
    rows.length
      ? el("table", { id: "sessions" },
        el("thead", {}, el("tr", {}, ...["Session", "Status", "Ended because", "Duration", "Started"].map((h) => el("th", { text: h })))),
        el("tbody", {}, ...rows))
      : el("p", { class: "empty", text: "No sessions yet." }),
    pager(page, list.total, go)));
}

// ----- one agent ----------------------------------------------------------------------------

function stepItem(agentId, step, n) {
  const shot = el("img", { class: "shot", loading: "lazy", alt: `screenshot after step ${n}`,
    src: `/agents/${encodeURIComponent(agentId)}/steps/${n}/screenshot` });
  shot.addEventListener("error", () => shot.remove());
  return el("li", { class: `step ${step.success ? "ok" : "failed"}` },
    el("div", { class: "step-head" },
      el("span", { class: "n", text: `#${n}` }),
      el("code", { class: "action", text: describeAction(step.action) }),
      badge(step.success ? "ok" : "failed", step.success ? "completed" : "failed")),
    el("p", { class: "message", text: step.message }),
    step.state && step.state.next_goal ? el("p", { class: "goal", text: `Goal: ${step.state.next_goal}` }) : null,
    shot);
}

function replayVideo(path) {
  const video = el("video", { class: "replay", controls: true, preload: "metadata", src: path });
  const note = el("p", { class: "hint", text: "Idle gaps longer than a few seconds are shortened." });
  video.addEventListener("error", () => note.replaceWith(problem("No replay: nothing was recorded (recording off?).")));
  return el("div", {}, video, note);
}

async function agentPage(agentId) {
  let agent = await api(`/agents/${encodeURIComponent(agentId)}`);
  const state = el("span", { id: "agent-state" });
  const answer = el("p", { id: "answer", class: "answer" });
  const steps = el("ol", { id: "steps", class: "steps" });
  const media = el("div", { id: "media", class: "media" });
  const controls = el("div", { class: "controls" });
  let seen = 0;

  const addStep = (step) => { seen += 1; steps.append(stepItem(agentId, step, seen)); };
  const render = () => {
    state.replaceChildren(agentBadge(agent));
    answer.textContent = agent.answer || (agent.status === "active" ? "Running…" : "");
  };
  const finished = async () => {
    render();
    controls.replaceChildren();
    const own = sessionStorage.getItem(`own-session:${agentId}`);
    if (own) {  // the form started this session for the agent: release its browser
      sessionStorage.removeItem(`own-session:${agentId}`);
      await api(`/sessions/${encodeURIComponent(own)}/stop`, { method: "DELETE" }).catch(() => {});
    }
    media.replaceChildren(el("h3", { text: "Replay" }), replayVideo(`/agents/${encodeURIComponent(agentId)}/replay`));
  };

  app.replaceChildren(el("section", { class: "card" },
    el("p", { class: "crumbs" }, el("a", { href: "#/", text: "Agents" }), " / ", el("span", { class: "mono", text: agentId })),
    el("h2", { class: "task", id: "task-title", text: agent.task }),
    el("dl", { class: "facts" },
      el("dt", { text: "State" }), el("dd", {}, state),
      el("dt", { text: "Start URL" }), el("dd", { text: agent.url || "—" }),
      el("dt", { text: "Model" }), el("dd", { text: agent.reasoning_model || "—" }),
      el("dt", { text: "Session" }), el("dd", {}, el("a", { href: `#/sessions/${encodeURIComponent(agent.session_id)}`, class: "mono", text: agent.session_id })),
      el("dt", { text: "Started" }), el("dd", { text: when(agent.created_at) })),
    el("h3", { text: "Answer" }), answer, controls),
    el("div", { class: "columns" },
      el("section", { class: "card" }, el("h3", { text: "Steps" }), steps),
      el("section", { class: "card" }, media)));
  render();

  if (agent.status !== "active") {
    agent.steps.forEach(addStep);
    await finished();
    return;
  }
  const stop = el("button", { type: "button", id: "stop", class: "danger", text: "Stop agent" });
  stop.addEventListener("click", async () => {
    stop.disabled = true;
    stop.textContent = "Stopping…";
    try { await api(`/agents/${encodeURIComponent(agentId)}/stop`, { method: "DELETE" }); } catch (error) { controls.append(problem(error.message)); }
  });
  controls.replaceChildren(stop);
  const screen = el("div", { class: "screen", id: "live" });
  const liveStatus = el("p", { class: "hint", text: "Connecting to the live view…" });
  media.replaceChildren(el("h3", { text: "Live view" }), liveStatus, screen);
  const live = new window.LiveView(screen, window.sameOriginSocket(`/sessions/${encodeURIComponent(agent.session_id)}/recording`),
    { onStatus: (text) => { liveStatus.textContent = text; } });
  cleanup.push(() => live.close());
  // Steps arrive over the agent's log WebSocket: past ones first, then live ones, then agent_stop.
  const logs = new WebSocket(window.sameOriginSocket(`/agents/${encodeURIComponent(agentId)}/debug/logs`));
  cleanup.push(() => logs.close());
  logs.onmessage = async (event) => {
    const message = JSON.parse(event.data);
    if (message.status === "agent_stop") {
      agent = message.agent;
      live.close();
      await finished();
    } else if (message.action) {
      addStep(message);
    }
  };
}

// ----- one session ----------------------------------------------------------------------------

async function sessionPage(sessionId) {
  const session = await api(`/sessions/${encodeURIComponent(sessionId)}`);
  const media = el("div", { class: "media" });
  const controls = el("div", { class: "controls" });
  app.replaceChildren(el("section", { class: "card" },
    el("p", { class: "crumbs" }, el("a", { href: "#/sessions", text: "Sessions" }), " / ", el("span", { class: "mono", text: sessionId })),
    el("dl", { class: "facts" },
      el("dt", { text: "Status" }), el("dd", {}, badge(session.status)),
      el("dt", { text: "Ended because" }), el("dd", { text: session.error || "—" }),
      el("dt", { text: "Started" }), el("dd", { text: when(session.created_at) }),
      el("dt", { text: "Duration" }), el("dd", { text: duration(session.created_at, session.closed_at) })),
    controls),
  el("section", { class: "card" }, media));
  if (session.status !== "active") {
    media.replaceChildren(el("h3", { text: "Replay" }), replayVideo(`/sessions/${encodeURIComponent(sessionId)}/replay`));
    return;
  }
  const stop = el("button", { type: "button", class: "danger", text: "Stop session" });
  stop.addEventListener("click", async () => {
    stop.disabled = true;
    await api(`/sessions/${encodeURIComponent(sessionId)}/stop`, { method: "DELETE" }).catch((e) => controls.append(problem(e.message)));
    route();
  });
  controls.replaceChildren(stop);
  const screen = el("div", { class: "screen", id: "live" });
  const liveStatus = el("p", { class: "hint", text: "Connecting…" });
  media.replaceChildren(el("h3", { text: "Live view (interactive: click, scroll and type)" }), liveStatus, screen);
  const live = new window.LiveView(screen,
    window.sameOriginSocket(`/sessions/${encodeURIComponent(sessionId)}/recording?interactive=true`),
    { interactive: true, onStatus: (text) => { liveStatus.textContent = text; } });
  cleanup.push(() => live.close());
}

// ----- routing ------------------------------------------------------------------------------

async function route() {
  cleanup.forEach((close) => close());
  cleanup = [];
  const [path, search] = (location.hash.slice(1) || "/").split("?");
  const query = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === "agents" && parts[1]) await agentPage(parts[1]);
    else if (parts[0] === "sessions" && parts[1]) await sessionPage(parts[1]);
    else if (parts[0] === "sessions") await sessionsPage(query);
    else await agentsPage(query);
  } catch (error) {
    app.replaceChildren(problem(error.message));
  }
}

window.addEventListener("hashchange", route);
route();
