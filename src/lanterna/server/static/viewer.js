// The page notte-sdk's open_viewer opens: /sessions/viewer/index.html?ws=<ws.recording>[&interactive=true]
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const status = document.getElementById("status");
  const screen = document.getElementById("screen");
  const say = (text) => { status.textContent = text; };
  let url;
  try {
    url = new URL(params.get("ws") || "");
  } catch (error) {
    say("Give the session's recording WebSocket URL as ?ws=… (from GET /sessions/{id}/debug).");
    return;
  }
  // Only this server's own recording sockets: the page must not be pointed elsewhere.
  if (url.host !== location.host || !/^wss?:$/.test(url.protocol) || !/^\/sessions\/[^/]+\/recording$/.test(url.pathname)) {
    say("This viewer only shows recording WebSockets of this server.");
    return;
  }
  const interactive = params.get("interactive") === "true";
  if (interactive) url.searchParams.set("interactive", "true");
  new window.LiveView(screen, url.toString(), {
    interactive,
    onStatus: (text) => say(interactive ? `${text} — interactive: click, scroll and type into the page` : text),
  });
})();
