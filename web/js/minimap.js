// The court minimap of the live page: players, the ball's trail and its bounces, from the `analytics`
// messages of the camera on show (court metres: x across -5..5, y along 0..20, the near end at the bottom).
// Its own module: it finds the page's client on window.__courtside and draws into a canvas of its own.
// A "heatmap" toggle shades where the players stood (1 m cells, since the camera came on screen); the
// "replay last rally" button plays the last finished rally's saved clip (fanout saves each rally as a
// clip once the archive holds its end: the button waits for it in /api/highlights, then opens /replay).

import { readToken } from "./page.js";

const HALF_W = 5;
const LENGTH = 20;
const SERVICE_FROM_NET = 6.95;
const CENTRE_EXT = 0.2;
const TRAIL = 45; // ball positions kept (3 s at 15 fps)
const BOUNCES = 8;
const PX_PER_M = 12;
const MARGIN = 8;
const CELL_M = 1; // heatmap cell
const CLIP_WAIT_MS = 30000; // how long "replay last rally" waits for the rally's clip to be saved

/** @param {HTMLElement} host */
export function createMinimap(host) {
  const box = document.createElement("div");
  box.className = "minimap";
  box.style.cssText = "position:fixed;right:12px;bottom:12px;background:rgba(0,0,0,.55);padding:6px;" +
    "border-radius:6px;font:11px system-ui,sans-serif;color:#eee;z-index:5";
  const canvas = document.createElement("canvas");
  canvas.width = 2 * HALF_W * PX_PER_M + 2 * MARGIN;
  canvas.height = LENGTH * PX_PER_M + 2 * MARGIN;
  canvas.setAttribute("aria-label", "court minimap");
  const text = document.createElement("div");
  text.className = "minimap-text";
  const controls = document.createElement("div");
  const heatButton = document.createElement("button");
  heatButton.className = "minimap-heatmap";
  heatButton.textContent = "heatmap";
  heatButton.setAttribute("aria-pressed", "false");
  const replayButton = document.createElement("button");
  replayButton.className = "minimap-replay";
  replayButton.textContent = "replay last rally";
  replayButton.disabled = true;
  controls.append(heatButton, replayButton);
  box.append(canvas, controls, text);
  host.append(box);
  const cols = Math.round(2 * HALF_W / CELL_M);
  const rows = Math.round(LENGTH / CELL_M);
  let heat = new Float64Array(cols * rows);
  let heatOn = false;
  /** @type {import("../sdk/courtside.js").Analytics["finished_rally"]} */
  let lastFinished = null;
  const ctx = canvas.getContext("2d");
  /** @type {{x: number, y: number}[]} */
  let trail = [];
  /** @type {{x: number, y: number, surface: string}[]} */
  let bounces = [];
  /** @type {import("../sdk/courtside.js").Analytics | null} */
  let last = null;
  let rallies = 0;
  /** @type {string} */
  let lastRally = "";

  const px = (x, y) => [MARGIN + (x + HALF_W) * PX_PER_M, MARGIN + (LENGTH - y) * PX_PER_M];

  function line(x1, y1, x2, y2) {
    const [a, b] = px(x1, y1);
    const [c, d] = px(x2, y2);
    ctx.beginPath();
    ctx.moveTo(a, b);
    ctx.lineTo(c, d);
    ctx.stroke();
  }

  function draw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#2d5f8a";
    const [x0, y0] = px(-HALF_W, LENGTH);
    ctx.fillRect(x0, y0, 2 * HALF_W * PX_PER_M, LENGTH * PX_PER_M);
    ctx.strokeStyle = "#f4f4f4";
    ctx.lineWidth = 1;
    ctx.strokeRect(x0, y0, 2 * HALF_W * PX_PER_M, LENGTH * PX_PER_M);
    const near = LENGTH / 2 - SERVICE_FROM_NET;
    const far = LENGTH / 2 + SERVICE_FROM_NET;
    line(-HALF_W, near, HALF_W, near);
    line(-HALF_W, far, HALF_W, far);
    line(0, near - CENTRE_EXT, 0, far + CENTRE_EXT);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#111";
    line(-HALF_W, LENGTH / 2, HALF_W, LENGTH / 2);
    if (heatOn) {
      const most = Math.max(...heat);
      for (let i = 0; most > 0 && i < heat.length; i++) {
        if (!heat[i]) continue;
        const [u, v] = px(-HALF_W + (i % cols) * CELL_M, (Math.floor(i / cols) + 1) * CELL_M);
        ctx.fillStyle = `rgba(255,40,0,${(0.15 + 0.7 * heat[i] / most).toFixed(3)})`;
        ctx.fillRect(u, v, CELL_M * PX_PER_M, CELL_M * PX_PER_M);
      }
    }
    for (const b of bounces) {
      const [u, v] = px(b.x, b.y);
      ctx.strokeStyle = b.surface === "floor" ? "#ffd400" : "#ff7b00";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(u - 3, v - 3); ctx.lineTo(u + 3, v + 3); ctx.moveTo(u - 3, v + 3); ctx.lineTo(u + 3, v - 3);
      ctx.stroke();
    }
    if (trail.length > 1) {
      ctx.strokeStyle = "rgba(230,255,60,.7)";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      trail.forEach((p, i) => {
        const [u, v] = px(p.x, p.y);
        if (i === 0) ctx.moveTo(u, v); else ctx.lineTo(u, v);
      });
      ctx.stroke();
    }
    if (last?.ball) {
      const [u, v] = px(last.ball.x, last.ball.y);
      ctx.fillStyle = "#e6ff3c";
      ctx.beginPath();
      ctx.arc(u, v, 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    for (const p of last?.players ?? []) {
      const [u, v] = px(p.x, p.y);
      ctx.fillStyle = p.side === "near" ? "#3fa9ff" : "#ff6f61";
      ctx.beginPath();
      ctx.arc(u, v, 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = "#fff";
      ctx.fillText(String(p.track_id % 1000), u + 6, v + 4);
    }
  }

  function describe() {
    if (!last) return "";
    const rows = (last.players ?? []).map((p) =>
      `#${p.track_id % 1000} ${p.distance_m.toFixed(0)} m · ${p.speed_mps.toFixed(1)} m/s`);
    const ball = last.ball?.speed_mps != null
      ? `ball ${(last.ball.speed_mps * 3.6).toFixed(0)} km/h${last.ball.speed_kind === "court_plane" ? " (court plane)" : ""}`
      : "";
    const rally = last.rally?.active ? `rally ${rallies + 1} · ${last.rally.shots} shots` : `rallies ${rallies}`;
    return [rally, lastRally, ball, ...rows].filter(Boolean).join("\n");
  }

  const map = {
    /** @param {import("../sdk/courtside.js").Analytics} msg */
    update(msg) {
      last = msg;
      for (const p of msg.players ?? []) {
        const c = Math.floor((p.x + HALF_W) / CELL_M);
        const r = Math.floor(p.y / CELL_M);
        if (c >= 0 && c < cols && r >= 0 && r < rows) heat[r * cols + c] += 1;
      }
      if (msg.ball) trail = [...trail.slice(-(TRAIL - 1)), { x: msg.ball.x, y: msg.ball.y }];
      for (const b of msg.bounces ?? []) bounces = [...bounces.slice(-(BOUNCES - 1)), b];
      if (msg.finished_rally) {
        rallies += 1;
        const r = msg.finished_rally;
        lastFinished = r;
        replayButton.disabled = false;
        replayButton.textContent = "replay last rally";
        lastRally = `last: ${r.duration_s.toFixed(1)} s, ${r.shots} shots, ${(r.fastest_mps * 3.6).toFixed(0)} km/h, ${r.reason}`;
      }
      text.style.whiteSpace = "pre";
      text.textContent = describe();
      draw();
    },
    clear() {
      trail = [];
      bounces = [];
      last = null;
      rallies = 0;
      lastRally = "";
      lastFinished = null;
      heat = new Float64Array(cols * rows);
      replayButton.disabled = true;
      text.textContent = "";
      draw();
    },
    canvas,
    heatmap: () => heatOn,
  };

  heatButton.addEventListener("click", () => {
    heatOn = !heatOn;
    heatButton.setAttribute("aria-pressed", String(heatOn));
    draw();
  });

  replayButton.addEventListener("click", async () => {
    const rally = lastFinished;
    const camera = window.__courtside?.camera;
    if (!rally || !camera) return;
    replayButton.disabled = true;
    replayButton.textContent = "waiting for the clip…";
    const token = readToken();
    // Nanosecond times past 2^53 arrive rounded (to 256 ns): the clip is looked up in a window of +-1 ms.
    const query = new URLSearchParams({ camera: String(camera), start: String(rally.start_ts - 1e6),
      end: String(rally.start_ts + 1e6), rank: "longest", limit: "1" });
    const until = performance.now() + CLIP_WAIT_MS;
    try {
      while (performance.now() < until) {
        const response = await fetch(`/api/highlights?${query}`,
          { headers: token ? { Authorization: `Bearer ${token}` } : {} });
        const body = await response.json();
        if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
        const clip = body.highlights[0];
        if (clip) {
          location.href = `/replay?${new URLSearchParams({ camera: String(camera), start: String(clip.start_ns),
            end: String(clip.end_ns), play: "1" })}`;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      throw new Error("the rally's clip was not saved in time");
    } catch (err) {
      replayButton.title = String(err.message || err);
      replayButton.textContent = "replay failed";
      replayButton.disabled = false;
    }
  });

  return map;
}

function attach() {
  const page = window.__courtside;
  const client = /** @type {import("../sdk/courtside.js").CourtsideClient | undefined} */ (page?.client);
  if (!client) {
    setTimeout(attach, 100);
    return;
  }
  const map = createMinimap(document.body);
  page.minimap = map;
  client.on("subscribed", () => map.clear());
  client.on("analytics", (msg) => {
    if (msg.camera === page.camera) map.update(msg);
  });
}

// The replay page (body data-minimap="replay") feeds its own minimap from the sidecar.
if (document.body.dataset.minimap !== "replay") attach();
