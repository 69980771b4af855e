// Live view of a session: JPEG frames from the recording WebSocket drawn into an <img>;
// with `interactive`, clicks, wheel and keys are sent back as input events.
"use strict";

const SPECIAL_KEYS = new Set([
  "Enter", "Backspace", "Tab", "Escape", "Delete", "ArrowUp", "ArrowDown",
  "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown",
]);

class LiveView {
  constructor(container, url, { interactive = false, onStatus = () => {} } = {}) {
    this.container = container;
    this.interactive = interactive;
    this.onStatus = onStatus;
    this.viewport = null;
    this.frames = 0;
    this.image = document.createElement("img");
    this.image.className = "live-frame";
    this.image.alt = "live view of the browser";
    container.replaceChildren(this.image);
    if (interactive) {
      container.tabIndex = 0;
      container.classList.add("interactive");
      this.listen();
    }
    this.socket = new WebSocket(url);
    this.socket.binaryType = "blob";
    this.socket.onopen = () => onStatus("connected");
    this.socket.onmessage = (event) => this.receive(event.data);
    this.socket.onclose = (event) => onStatus(event.reason ? `closed: ${event.reason}` : "closed");
    this.socket.onerror = () => onStatus("could not connect");
  }

  receive(data) {
    if (typeof data === "string") {
      const message = JSON.parse(data);
      if (message.viewport) this.viewport = message.viewport;
      if (message.error) this.onStatus(`input refused: ${message.error}`);
      return;
    }
    const previous = this.image.src;
    this.image.src = URL.createObjectURL(data);
    if (previous) URL.revokeObjectURL(previous);
    this.frames += 1;
    this.container.dataset.frames = String(this.frames);
    if (this.frames === 1) this.onStatus("live");
  }

  send(input) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ input }));
  }

  point(event) {
    const box = this.image.getBoundingClientRect();
    if (!this.viewport || box.width === 0) return null;
    const x = ((event.clientX - box.left) / box.width) * this.viewport.width;
    const y = ((event.clientY - box.top) / box.height) * this.viewport.height;
    if (x < 0 || y < 0 || x >= this.viewport.width || y >= this.viewport.height) return null;
    return { x: Math.round(x), y: Math.round(y) };
  }

  listen() {
    const buttons = ["left", "middle", "right"];
    this.image.addEventListener("mousedown", (event) => {
      event.preventDefault();
      this.container.focus();
      const at = this.point(event);
      if (at) this.send({ type: "click", ...at, button: buttons[event.button] || "left" });
    });
    this.image.addEventListener("contextmenu", (event) => event.preventDefault());
    let wheelAt = 0;
    this.image.addEventListener("wheel", (event) => {
      event.preventDefault();
      const now = Date.now();
      if (now - wheelAt < 50) return;  // at most 20 scrolls a second
      wheelAt = now;
      const at = this.point(event);
      const clamp = (v) => Math.max(-5000, Math.min(5000, v));
      if (at) this.send({ type: "scroll", ...at, delta_x: clamp(event.deltaX), delta_y: clamp(event.deltaY) });
    }, { passive: false });
    this.container.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (SPECIAL_KEYS.has(event.key)) {
        this.send({ type: "key", key: event.key });
      } else if (event.key.length === 1) {
        this.send({ type: "text", text: event.key });
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  close() {
    this.socket.close();
  }
}

// The WebSocket URL of a path on this server.
function sameOriginSocket(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

window.LiveView = LiveView;
window.sameOriginSocket = sameOriginSocket;
