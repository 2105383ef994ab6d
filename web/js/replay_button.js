// The live page's "replay" button: saves the last 30 s of the camera on screen as a clip (ingest
// flushes its open segment first, so the clip reaches the click) and plays it on /replay.
// Needs the write scope when auth is on; the reason of a refusal is shown on the button.

import { readToken } from "./page.js";

const button = /** @type {HTMLButtonElement | null} */ (document.getElementById("replay"));
const token = readToken();

button?.addEventListener("click", async (event) => {
  const clickedAt = performance.timeOrigin + event.timeStamp;  // ms since the epoch: the user's click
  const camera = window.__courtside?.camera;
  if (!camera) return;
  button.disabled = true;
  button.textContent = "saving…";
  try {
    const response = await fetch("/api/clips", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ camera, last_s: 30 }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
    const query = { camera: String(camera), start: String(body.start_ns), end: String(body.end_ns), play: "1",
      clicked: clickedAt.toFixed(1) };
    location.href = `/replay?${new URLSearchParams(query)}`;
  } catch (err) {
    button.title = String(err.message || err);
    button.textContent = "replay failed";
  } finally {
    button.disabled = false;
  }
});
